-- pgbench: the SQL of the "get" scenario (GET /api/v1/tasks/{id}) as the service sends
-- it (tasks/repository.py: read): the task by owner and id with its tag names in one
-- statement. Reads run without BEGIN/COMMIT (core/db.py), and the account check is
-- cached per worker (auth/authenticator.py), so this is all a request costs the database.
-- Ids as bench/seed.py makes them (bench_uuid, spelled in SQL). Variables: nusers, ntasks.
\set u random(1, :nusers)
\set k :u * 1000000 + random(0, :ntasks - 1)
SELECT tasks.id, tasks.title, tasks.description, tasks.completed, tasks.completed_at, tasks.priority, tasks.due_at, tasks.recurrence, tasks.created_at, tasks.updated_at, tasks.version, (SELECT array_agg(tags.name) AS array_agg_1 FROM task_tags JOIN tags ON tags.id = task_tags.tag_id WHERE task_tags.task_id = tasks.id AND task_tags.user_id = overlay(overlay(md5('u' || :u) placing '4' from 13) placing '8' from 17)::uuid) AS tag_names FROM tasks WHERE tasks.user_id = overlay(overlay(md5('u' || :u) placing '4' from 13) placing '8' from 17)::uuid AND tasks.id = overlay(overlay(md5('t' || :k) placing '4' from 13) placing '8' from 17)::uuid;
