// Reads an iCalendar file (argv[2]) with ical.js and prints, for each VTODO, its UID and
// what a task list shows: due day, status, priority, percent done, completed (Unix
// seconds or null), and the alarms' triggers with what they are related to; JSON.
import { readFileSync } from "node:fs";
import ICAL from "ical.js";

const comp = new ICAL.Component(ICAL.parse(readFileSync(process.argv[2], "utf8")));
const out = {};
for (const todo of comp.getAllSubcomponents("vtodo")) {
  const due = todo.getFirstPropertyValue("due");
  const completed = todo.getFirstPropertyValue("completed");
  out[todo.getFirstPropertyValue("uid")] = {
    due: due ? due.toString() : null,
    due_is_date: due ? due.isDate : null,
    status: todo.getFirstPropertyValue("status"),
    priority: todo.getFirstPropertyValue("priority"),
    percent: todo.getFirstPropertyValue("percent-complete"),
    completed: completed ? completed.toUnixTime() : null,
    alarms: todo.getAllSubcomponents("valarm").map((a) => {
      const p = a.getFirstProperty("trigger");
      return { trigger: p.getFirstValue().toString(), related: p.getParameter("related") };
    }),
  };
}
process.stdout.write(JSON.stringify(out));
