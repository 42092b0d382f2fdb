"""A throwaway PostgreSQL cluster for the tests that run on the PostGIS backend: initdb in a temporary directory, started
with Debian's PostgreSQL (postgresql-15-postgis-3) on a free loopback port, stopped and removed at the end of the run.
The server refuses to run as root, so when the tests run as root the cluster belongs to the ``postgres`` user.

Databases: one per kind of registry (empty, demo), built once per run, with a copy of every table in the schema
``seed``. Each test starts from the seed: ``reset`` puts every table the last test wrote back as it was (a
server-side function; a statement-level trigger on each table notes that it was written: restoring all 45 tables of
the demo registry, its read model's search rows and their trigram index included, took 140-330 ms per test, 405
tests) and every sequence it moved, and hands out a URL of its own
(``?application_name=<test number>``), so that no pool, cached answer or change stamp of one test is seen by the
next. Fault-injection triggers a test adds are named ``test_*`` and removed by the next reset.
"""
from __future__ import annotations

import glob
import itertools
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

import psycopg


def _bin_dir() -> Path:
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/pg_ctl"), key=lambda p: int(p.split("/")[4]))
    if not found:
        raise RuntimeError("PostgreSQL is not installed: apt-get install postgresql-15-postgis-3 (see .ci/run)")
    return Path(found[-1]).parent


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _as_owner(args: list[str]) -> list[str]:
    return ["runuser", "-u", "postgres", "--", *args] if os.geteuid() == 0 else args


@dataclass
class Cluster:
    """A running PostgreSQL server on 127.0.0.1:port, data in ``directory``."""

    directory: Path
    port: int
    bin: Path = field(default_factory=_bin_dir)
    _names: itertools.count = field(default_factory=lambda: itertools.count(1))

    @property
    def data(self) -> Path:
        return self.directory / "data"

    def url(self, database: str = "postgres") -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/{database}"

    def run(self, *args: str, check: bool = True) -> subprocess.CompletedProcess:
        return subprocess.run(_as_owner([str(self.bin / args[0]), *args[1:]]), check=check, capture_output=True,
                              text=True, cwd=self.directory)

    @classmethod
    def create(cls, *, settings: dict[str, str] | None = None) -> "Cluster":
        directory = Path(tempfile.mkdtemp(prefix="fossil-pg-"))
        if os.geteuid() == 0:
            pw = pwd.getpwnam("postgres")
            os.chown(directory, pw.pw_uid, pw.pw_gid)
        cluster = cls(directory=directory, port=free_port())
        cluster.run("initdb", "-D", str(cluster.data), "-A", "trust", "-U", "postgres", "--no-sync", "-E", "UTF8",
                    "--locale=C.UTF-8", "--no-instructions")
        conf = {"listen_addresses": "'127.0.0.1'", "port": str(cluster.port),
                "unix_socket_directories": f"'{directory}'", "fsync": "off", "synchronous_commit": "off",
                "full_page_writes": "off", "max_connections": "300", "wal_level": "replica",
                "max_wal_senders": "4", "log_min_messages": "warning", **(settings or {})}
        with open(cluster.data / "postgresql.auto.conf", "a") as fh:
            fh.writelines(f"{k} = {v}\n" for k, v in conf.items())
        cluster.start()
        return cluster

    def start(self) -> None:
        self.run("pg_ctl", "-D", str(self.data), "-l", str(self.directory / "server.log"), "-w", "-t", "60", "start")

    def stop(self, mode: str = "fast") -> None:
        self.run("pg_ctl", "-D", str(self.data), "-m", mode, "-w", "stop", check=False)

    def restart(self) -> None:
        self.run("pg_ctl", "-D", str(self.data), "-l", str(self.directory / "server.log"), "-m", "fast", "-w",
                 "restart")

    def remove(self) -> None:
        self.stop("immediate")
        shutil.rmtree(self.directory, ignore_errors=True)

    def admin(self, *statements: str) -> None:
        with psycopg.connect(self.url(), autocommit=True) as conn:
            for statement in statements:
                conn.execute(statement)

    def new_database(self, template: str | None = None) -> str:
        """A new database (from ``template`` if given); returns its URL."""
        name = f"t{next(self._names)}_{os.getpid()}"
        self.admin(f"CREATE DATABASE {name}" + (f" TEMPLATE {template} STRATEGY FILE_COPY" if template else ""))
        return self.url(name)

    def drop_database(self, url: str) -> None:
        from fossil_registry.store import pg

        pg.close_pool(url)
        self.admin(f"DROP DATABASE IF EXISTS {url.rsplit('/', 1)[1]} WITH (FORCE)")

    def make_resettable(self, url: str) -> None:
        """Keep a copy of every table of the registry in ``url`` (schema seed) and the function that restores it."""
        from fossil_registry.store import pg

        pg.close_pool(url)
        with psycopg.connect(url, autocommit=True) as conn:
            conn.execute(_SEED_SQL)

    def reset(self, url: str) -> str:
        """Put the registry in ``url`` back to its seed; returns a URL of its own for the next test."""
        from fossil_registry.store import pg

        for old in [u for u in list(pg._POOLS) if u.split("?")[0] == url]:
            pg.close_pool(old)
        with psycopg.connect(url, autocommit=True) as conn:
            conn.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                         "WHERE datname = current_database() AND pid != pg_backend_pid()")
            conn.execute("SELECT seed.reset()")
        return f"{url}?application_name=test{next(self._names)}"

    def as_template(self, url: str) -> str:
        """Close every connection to ``url`` so that it can be copied; returns the database's name."""
        from fossil_registry.store import pg

        pg.close_pool(url)
        name = url.rsplit("/", 1)[1]
        self.admin(f"ALTER DATABASE {name} WITH IS_TEMPLATE true",
                   f"SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '{name}'")
        return name


_SEED_SQL = r"""
CREATE SCHEMA seed;
CREATE TABLE seed.tables AS
  SELECT c.relname::text AS name, c.oid AS ord
  FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
  WHERE n.nspname = 'public' AND c.relkind = 'r' AND c.relname != 'spatial_ref_sys';
-- each table's sequence after its highest fid (a copied registry's rows came with their fids), as the seed's state
DO $$ DECLARE t text; BEGIN
  FOR t IN SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace JOIN pg_attribute a
           ON a.attrelid = c.oid AND a.attname = 'fid' WHERE n.nspname = 'public' AND c.relkind = 'r' LOOP
    IF pg_get_serial_sequence('public.' || t, 'fid') IS NOT NULL THEN
      EXECUTE format('SELECT setval(pg_get_serial_sequence(%L, ''fid''), coalesce((SELECT max(fid) FROM public.%I), 0) + 1, false)',
                     'public.' || t, t);
    END IF;
  END LOOP;
END $$;
CREATE TABLE seed.sequences (seq regclass, last_value bigint, is_called boolean);
DO $$ DECLARE s regclass; BEGIN
  FOR s IN SELECT c.oid::regclass FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
           WHERE n.nspname = 'public' AND c.relkind = 'S' LOOP
    EXECUTE format('INSERT INTO seed.sequences SELECT %L::regclass, last_value, is_called FROM %s', s, s);
  END LOOP;
END $$;
-- the tables a test wrote (a statement-level trigger per table records its name): only those are restored
CREATE UNLOGGED TABLE seed.dirty (name text PRIMARY KEY);
CREATE FUNCTION seed.mark_dirty() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  INSERT INTO seed.dirty VALUES (TG_TABLE_NAME) ON CONFLICT DO NOTHING;
  RETURN NULL;
END $$;
DO $$ DECLARE t text; BEGIN
  FOR t IN SELECT name FROM seed.tables LOOP
    EXECUTE format('CREATE TABLE seed.%I AS TABLE public.%I', t, t);
    EXECUTE format('CREATE TRIGGER seed_dirty AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON public.%I '
                   'FOR EACH STATEMENT EXECUTE FUNCTION seed.mark_dirty()', t);
  END LOOP;
END $$;
CREATE FUNCTION seed.reset() RETURNS void LANGUAGE plpgsql AS $$
DECLARE r record;
BEGIN
  FOR r IN SELECT tgname, tgrelid::regclass AS rel FROM pg_trigger WHERE tgname LIKE 'test\_%' LOOP
    EXECUTE format('DROP TRIGGER %I ON %s', r.tgname, r.rel);
  END LOOP;
  SET LOCAL session_replication_role = replica;  -- no triggers (append-only refusals), no foreign key checks
  FOR r IN SELECT t.name FROM seed.tables t JOIN seed.dirty d USING (name) LOOP
    EXECUTE format('DELETE FROM public.%I', r.name);
    EXECUTE format('INSERT INTO public.%I SELECT * FROM seed.%I', r.name, r.name);
  END LOOP;
  DELETE FROM seed.dirty;
  -- every sequence not where it was, its table written or not: an insert rolled back (its table left clean) still took
  -- a number
  FOR r IN SELECT seq, last_value, is_called FROM seed.sequences
           WHERE pg_sequence_last_value(seq) IS DISTINCT FROM CASE WHEN is_called THEN last_value END LOOP
    PERFORM setval(r.seq, r.last_value, r.is_called);
  END LOOP;
END $$;
"""
