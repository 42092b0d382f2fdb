"""`flask --app app registry ...`: create, check and export the registry."""
from __future__ import annotations

import sys
from pathlib import Path

import click
from flask import current_app
from flask.cli import with_appcontext

from . import auth, store
from .db import get_conn
from .errors import RegistryError
from .registry import (backup_registry, check_files, check_registry, copy_registry, create_demo_accounts,
                       export_registry, init_registry, registry_path, restore_registry, sweep_files)


@click.group("registry", help="Create, check and export the fossil site registry.")
def registry_cli():
    pass


@registry_cli.command("init", help="Create an empty registry (or, with --demo, the illustrative Guizhou demo registry).")
@click.option("--demo", is_flag=True, help="Load the illustrative demo data set (not official records).")
@with_appcontext
def init_command(demo: bool):
    path = current_app.config["REGISTRY"]
    if store.is_registry(path):
        click.echo(f"A registry already exists at {path}; nothing was changed.", err=True)
        sys.exit(1)
    count = init_registry(path, demo=demo)
    click.echo(f"Created registry at {path}" + (f" with {count} illustrative demo sites" if demo else ""))
    if demo:
        from .demo.activity import seed_activity, summary_line
        from .inspections import local_today

        print_demo_accounts(create_demo_accounts(path))
        click.echo(summary_line(seed_activity(path, today=local_today(current_app.config["TIMEZONE"]))))


def print_demo_accounts(accounts) -> None:
    click.echo("Demo accounts (passwords are shown only now; change or disable them for real use):")
    for username, role, password in accounts:
        click.echo(f"  {role:<7} {username:<12} {password}")


@registry_cli.command("check", help="Integrity, spatial index, history, GeoPackage validity, and every attachment and "
                                    "photo file a record references; exit 1 on any problem.")
@with_appcontext
def check_command():
    path = current_app.config["REGISTRY"]
    problems = check_registry(path, data_dir=current_app.config["DATA_DIR"])
    if problems:
        for p in problems:
            click.echo(f"PROBLEM: {p}", err=True)
        click.echo(f"{len(problems)} problem(s) found in {path}", err=True)
        sys.exit(1)
    unreferenced = check_files(get_conn(), current_app.config["DATA_DIR"])[1]
    click.echo(f"OK: {path} passes the integrity, spatial index, history, GeoPackage and file checks")
    if unreferenced:
        click.echo(f"note: {len(unreferenced)} file(s) no record references (left by writes that failed); "
                   "`flask --app app registry sweep` removes them")


@registry_cli.command("sweep", help="Remove attachment and photo files that no record references (under the write "
                                    "lock; safe while the app runs).")
@with_appcontext
def sweep_command():
    removed = sweep_files(get_conn(), current_app.config["DATA_DIR"])
    click.echo(f"Removed {len(removed)} unreferenced file(s)")


@registry_cli.command("export", help="Write a shareable GeoPackage snapshot to DEST (safe while the app is writing): "
                                     "no accounts, sessions, contacts, client addresses or other personal data.")
@click.argument("dest", type=click.Path(dir_okay=False, writable=True))
@with_appcontext
def export_command(dest: str):
    path = current_app.config["REGISTRY"]
    if not store.is_registry(path):
        click.echo(f"No registry at {path}", err=True)
        sys.exit(1)
    try:
        export_registry(path, dest)
    except FileExistsError as exc:
        click.echo(f"Error: {exc}", err=True)
        sys.exit(1)
    click.echo(f"Exported {path} to {dest} (shareable: no personal data; exact locations of sensitive sites included)")


@registry_cli.command("backup", help="Write a FULL backup (registry with accounts, contacts and addresses, and every "
                                     "attachment and photo) into the new directory DEST; safe while the app writes. "
                                     "As sensitive as the registry: keep it where the registry is kept.")
@click.argument("dest", type=click.Path(file_okay=False, writable=True))
@with_appcontext
def backup_command(dest: str):
    try:
        done = backup_registry(current_app.config["DATA_DIR"], dest, current_app.config["REGISTRY"])
    except (FileExistsError, FileNotFoundError) as exc:
        click.echo(f"Error: {exc}", err=True)
        sys.exit(1)
    click.echo(f"Backed up the registry ({done['bytes']:,} bytes) and {done['files']} files to {dest}. It holds "
               "personal data: store it as securely as the registry.")


@registry_cli.command("restore", help="Put the backup in directory SRC in place as this data directory's registry, "
                                      "after checking it. Stop the app first.")
@click.argument("src", type=click.Path(file_okay=False, exists=True))
@click.option("--replace", is_flag=True, help="Overwrite the registry that is there now.")
@with_appcontext
def restore_command(src: str, replace: bool):
    try:
        restore_registry(src, current_app.config["DATA_DIR"], replace=replace)
    except (FileExistsError, ValueError) as exc:
        click.echo(f"Error: {exc}", err=True)
        sys.exit(1)
    click.echo(f"Restored the registry from {src} into {current_app.config['DATA_DIR']}")


def _location(arg: str, data_dir: str | None) -> tuple[str, Path]:
    """(registry location, data directory of its files) of a copy's SRC or DEST: a postgresql:// URL (files in
    --*-data-dir, else this app's FLASK_DATA_DIR), a data directory (its sites/registry.gpkg), or a .gpkg file (files
    in the data directory around it)."""
    if store.dialect.is_url(arg):
        return arg, Path(data_dir or current_app.config["DATA_DIR"])
    path = Path(arg)
    if path.suffix.lower() != ".gpkg":
        return str(registry_path(path)), Path(data_dir or path)
    default = path.parent.parent if path.parent.name == "sites" else path.parent
    return str(path), Path(data_dir or default)


@registry_cli.command("copy", help="Copy the whole registry (history, audit, accounts, contacts, photos and "
                                   "attachments) from SRC to DEST, each a GeoPackage (.gpkg or data directory) or a "
                                   "postgresql:// URL; DEST must be new or an empty database. The copy is checked "
                                   "with `registry check` before it is reported done.")
@click.argument("src")
@click.argument("dest")
@click.option("--src-data-dir", default=None, help="Where SRC's photo and attachment files are (default: see above).")
@click.option("--dest-data-dir", default=None, help="Where DEST's files go.")
@with_appcontext
def copy_command(src: str, dest: str, src_data_dir: str | None, dest_data_dir: str | None):
    (source, source_files), (target, target_files) = _location(src, src_data_dir), _location(dest, dest_data_dir)
    try:
        done = copy_registry(source, target, src_files=source_files, dest_files=target_files)
    except (FileExistsError, FileNotFoundError, ValueError, RegistryError) as exc:
        click.echo(f"Error: {getattr(exc, 'detail', exc)}", err=True)
        sys.exit(1)
    click.echo(f"Copied {done['rows']:,} rows and {done['files']} files from {_shown(source)} to {_shown(target)}; "
               "the copy passes the registry check.")


def _shown(location: str) -> str:
    return store.pg.describe(location) if store.dialect.is_url(location) else location


# --------------------------------------------------------------------------------------------------------------------
@click.group("users", help="Manage accounts and API tokens.")
def users_cli():
    pass


def _fail(exc: RegistryError):
    click.echo(f"Error: {exc.detail}", err=True)
    sys.exit(1)


@users_cli.command("create", help="Create an account with role field, expert or admin.")
@click.argument("name")
@click.option("--role", required=True, type=click.Choice(auth.ROLES))
@click.option("--display-name", default=None, help="Full name shown in the history.")
@click.option("--password-stdin", is_flag=True, help="Read the password from the first line of standard input.")
@with_appcontext
def users_create(name: str, role: str, display_name: str | None, password_stdin: bool):
    generated = False
    if password_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
    elif sys.stdin.isatty():
        password = click.prompt("Password", hide_input=True, confirmation_prompt=True)
    else:
        password, generated = auth.random_password(), True
    try:
        auth.create_user(get_conn(), username=name, role=role, password=password, display_name=display_name,
                         actor="cli")
    except RegistryError as exc:
        _fail(exc)
    click.echo(f"Created {role} account {name}")
    if generated:
        click.echo(f"Generated password (shown once): {password}")


def _set_active(name: str, active: bool) -> None:
    try:
        auth.set_active(get_conn(), name, active, actor="cli")
    except RegistryError as exc:
        _fail(exc)
    click.echo(f"{'Enabled' if active else 'Disabled'} {name}")


@users_cli.command("disable", help="Disable an account (never deleted: history keeps its authors); ends its sessions "
                                   "and revokes its tokens.")
@click.argument("name")
@with_appcontext
def users_disable(name: str):
    _set_active(name, False)


@users_cli.command("enable", help="Enable a disabled account.")
@click.argument("name")
@with_appcontext
def users_enable(name: str):
    _set_active(name, True)


@users_cli.command("list", help="List accounts.")
@with_appcontext
def users_list():
    for u in auth.list_users(get_conn()):
        click.echo(f"{u.username:<20} {u.role:<7} {'active' if u.active else 'disabled':<9} {u.display_name or ''}")


@users_cli.command("token", help="Issue a new API token; it is printed once, as the last line.")
@click.argument("name")
@click.option("--label", default=None, help="What the token is for.")
@click.option("--days", default=365, show_default=True, type=click.IntRange(1, 3650), help="Days until it expires.")
@with_appcontext
def users_token(name: str, label: str | None, days: int):
    try:
        token = auth.issue_token(get_conn(), name, label=label, days=days, actor="cli")
    except RegistryError as exc:
        _fail(exc)
    click.echo(f"New API token for {name} (valid {days} days; store it now, it is not shown again):")
    click.echo(token)


@users_cli.command("revoke-tokens", help="Revoke every API token of an account.")
@click.argument("name")
@with_appcontext
def users_revoke_tokens(name: str):
    try:
        count = auth.revoke_tokens(get_conn(), name, actor="cli")
    except RegistryError as exc:
        _fail(exc)
    click.echo(f"Revoked {count} token(s) of {name}")
