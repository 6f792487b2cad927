"""Pure core of team assignment: plain data in, plain data out; no database, files or clock."""
