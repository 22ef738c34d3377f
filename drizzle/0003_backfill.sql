-- threads_project_id_idx is created concurrently, outside this transaction: drizzle/concurrent/0003_threads_project_id_idx.sql
SELECT 1;
