"""Importing rosters (名单导入): the office's Excel and CSV sheets, as messy as they come.

:func:`read_sheet` reads ``.xlsx``, ``.xls``, ``.ods`` (python-calamine) and ``.csv``
(UTF-8 with or without BOM, else GB18030/GBK); :func:`import_roster` finds the header row,
recognises the columns (Chinese or English headers, or ``mapping``), reads every cell as
people type it (``1965.03``, ``65.03``, ``1965年3月``, full-width digits, ``+86`` phones,
several categories in one cell), finds duplicates against the database and inside the
file, and writes the good rows through the contacts service in bulk. Each bad cell
becomes a :class:`CellError` (sheet row, column header, value, reason); a row with one is
not imported, the others are. Nothing is committed here: the caller's unit is the one
transaction of the whole import, so a failed or killed run leaves the database as it was.

Re-importing the same file changes nothing: every value is compared with what is stored
before anything is written, and only real differences are written (and audited).

The modules, in the order an import runs through them:

- :mod:`.sheets`: reading a file into a :class:`Sheet`, the fields a column can fill
  (:data:`FIELDS`) and the header names that recognise them (:func:`header_field`);
- :mod:`.cells`: reading one cell (:func:`parse_birth`, :func:`parse_gender`,
  :func:`parse_phones`, …) and matching values against vocabularies (:class:`Resolver`);
- :mod:`.planner`: each row matched against stored people and earlier rows, the plan;
- :mod:`.run`: :func:`import_roster` (options, read, plan, write in the unit);
- :mod:`.unknowns`, :mod:`.settle`: values the vocabularies do not know, answered
  (added to the config, mapped, left out) and remembered as a saved import mapping;
- :mod:`.report`: :class:`CellError`, :class:`RowOutcome`, :class:`ImportReport`,
  :class:`Duplicate` and the errors file (:func:`write_errors`).
"""

from crm_core.roster.cells import (
    CellProblem,
    Resolver,
    cell_text,
    parse_birth,
    parse_gender,
    parse_phones,
    split_employer_title,
    split_list,
)
from crm_core.roster.report import (
    CellError,
    Column,
    Duplicate,
    ImportReport,
    Progress,
    RowOutcome,
    write_errors,
)
from crm_core.roster.run import import_roster
from crm_core.roster.sheets import (
    ERROR_ROW_HEADER,
    ERROR_TEXT_HEADER,
    FIELDS,
    HEADER_SCAN_ROWS,
    SUFFIXES,
    OnDuplicate,
    Sheet,
    header_field,
    read_sheet,
)
from crm_core.roster.unknowns import (
    DEFAULT_SOURCE,
    Choice,
    UnknownPolicy,
    UnknownValue,
    ValueMap,
    suggest,
)
from crm_core.sheetguard import LimitError, RosterError

__all__ = [
    "DEFAULT_SOURCE",
    "ERROR_ROW_HEADER",
    "ERROR_TEXT_HEADER",
    "FIELDS",
    "HEADER_SCAN_ROWS",
    "SUFFIXES",
    "CellError",
    "CellProblem",
    "Choice",
    "Column",
    "Duplicate",
    "ImportReport",
    "LimitError",
    "OnDuplicate",
    "Progress",
    "Resolver",
    "RosterError",
    "RowOutcome",
    "Sheet",
    "UnknownPolicy",
    "UnknownValue",
    "ValueMap",
    "cell_text",
    "header_field",
    "import_roster",
    "parse_birth",
    "parse_gender",
    "parse_phones",
    "read_sheet",
    "split_employer_title",
    "split_list",
    "suggest",
    "write_errors",
]
