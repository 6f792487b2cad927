"""Field work: the papers of a lawful inspection (行政检查审批表, 检查通知书, 现场检查记录表).

- ``codes``: the task verification code and URL (pure);
- ``papers``: the three papers built from plain data as ``publish.NoticeDocument`` documents (pure);
- ``service``: a task's data read from the database and config, papers rendered and written;
- ``demo``: the demo step.
"""
