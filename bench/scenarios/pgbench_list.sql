-- pgbench: the SQL of the "list" scenario (GET /api/v1/tasks?limit=20) as the service
-- sends it (tasks/repository.py: list_page): the first keyset page, LIMIT 21 (one extra
-- row tells whether there is a next page), each task with its tag names. No BEGIN/COMMIT
-- for reads; the account check is cached per worker. Variables: nusers.
\set u random(1, :nusers)
SELECT tasks.id, tasks.title, tasks.description, tasks.completed, tasks.completed_at, tasks.priority, tasks.due_at, tasks.recurrence, tasks.created_at, tasks.updated_at, tasks.version, (SELECT array_agg(tags.name) AS array_agg_1 FROM task_tags JOIN tags ON tags.id = task_tags.tag_id WHERE task_tags.task_id = tasks.id AND task_tags.user_id = overlay(overlay(md5('u' || :u) placing '4' from 13) placing '8' from 17)::uuid) AS tag_names FROM tasks WHERE tasks.user_id = overlay(overlay(md5('u' || :u) placing '4' from 13) placing '8' from 17)::uuid ORDER BY tasks.created_at DESC, tasks.id DESC LIMIT 21;
