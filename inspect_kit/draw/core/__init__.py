"""Pure core of the draw: plain data in, plain data out; no database, files or clock."""
