"""Accounts of the web application: roles (pure table), password hashing, and the stored users,
sessions, API tokens and login throttle (service). The CLI (`inspect user`) and the web layer both
call ``inspect_kit.accounts.service``; no rule about accounts is written anywhere else."""
