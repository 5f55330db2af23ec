"""Alembic migrations of tongxin's core schema."""
