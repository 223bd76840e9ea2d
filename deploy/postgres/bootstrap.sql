-- OrderFlow database bootstrap. Run as a superuser with psql, passing one password per service:
--
--   psql -v ON_ERROR_STOP=1 -v users_password=… -v orders_password=… \
--        -v payments_password=… -v notifications_password=… -f bootstrap.sql postgres
--
-- Creates database `orderflow` and, per service, one login role and one schema owned by it.
-- A role can use its own schema only: nothing is granted on the others, and PUBLIC loses its
-- default rights on the database and on schema public. Idempotent: re-running only resets passwords.

SELECT 'CREATE DATABASE orderflow' WHERE NOT EXISTS (SELECT FROM pg_database WHERE datname = 'orderflow')
\gexec

\connect orderflow

REVOKE ALL ON DATABASE orderflow FROM PUBLIC;
REVOKE ALL ON SCHEMA public FROM PUBLIC;

SELECT format('CREATE ROLE %I LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOINHERIT', service)
FROM unnest(ARRAY['users', 'orders', 'payments', 'notifications']) AS service
WHERE NOT EXISTS (SELECT FROM pg_roles WHERE rolname = service)
\gexec

ALTER ROLE users PASSWORD :'users_password';
ALTER ROLE orders PASSWORD :'orders_password';
ALTER ROLE payments PASSWORD :'payments_password';
ALTER ROLE notifications PASSWORD :'notifications_password';

SELECT format('CREATE SCHEMA IF NOT EXISTS %1$I AUTHORIZATION %1$I', service)
    || format('; GRANT CONNECT, TEMPORARY ON DATABASE orderflow TO %I', service)
    || format('; REVOKE ALL ON SCHEMA %I FROM PUBLIC', service)
    || format('; ALTER ROLE %1$I IN DATABASE orderflow SET search_path = %1$I', service)
FROM unnest(ARRAY['users', 'orders', 'payments', 'notifications']) AS service
\gexec
