"""The public side (一公开): read-only pages anyone may open, under /public.

- queries: what the public may read, as plain values (no web import): notices, draws, the log,
  published results, the search, a task's page and its verification code (throttled).
- guard: the public-output guard on every /public response (an ASGI middleware).
- pages: the routes (thin wrappers over queries), every one gated with ``public()``.

What never reaches a public page: a team before its entity holds the task's verification code
(the code is printed on the 检查通知书, so holding it means the entity was notified), a private
registry column, a finding no results notice has published, and the sample, seed and tasks of a
sealed draw before it is unsealed.
"""
