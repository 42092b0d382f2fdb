"""`flask --app app registry ...`: create, check and export the registry."""
from __future__ import annotations

import sys

import click
from flask import current_app
from flask.cli import with_appcontext

from . import store
from .registry import check_registry, export_registry, init_registry


@click.group("registry", help="Create, check and export the fossil site registry.")
def registry_cli():
    pass


@registry_cli.command("init", help="Create an empty registry (or, with --demo, the illustrative Guizhou demo registry).")
@click.option("--demo", is_flag=True, help="Load the illustrative demo data set (not official records).")
@with_appcontext
def init_command(demo: bool):
    path = current_app.config["REGISTRY_PATH"]
    if store.is_registry(path):
        click.echo(f"A registry already exists at {path}; nothing was changed.", err=True)
        sys.exit(1)
    count = init_registry(path, demo=demo)
    click.echo(f"Created registry at {path}" + (f" with {count} illustrative demo sites" if demo else ""))


@registry_cli.command("check", help="Integrity, spatial index, history and GeoPackage validity; exit 1 on any problem.")
@with_appcontext
def check_command():
    path = current_app.config["REGISTRY_PATH"]
    problems = check_registry(path)
    if problems:
        for p in problems:
            click.echo(f"PROBLEM: {p}", err=True)
        click.echo(f"{len(problems)} problem(s) found in {path}", err=True)
        sys.exit(1)
    click.echo(f"OK: {path} passes the integrity, spatial index, history and GeoPackage checks")


@registry_cli.command("export", help="Write a consistent GeoPackage snapshot to PATH (safe while the app is writing).")
@click.argument("dest", type=click.Path(dir_okay=False, writable=True))
@with_appcontext
def export_command(dest: str):
    path = current_app.config["REGISTRY_PATH"]
    if not store.is_registry(path):
        click.echo(f"No registry at {path}", err=True)
        sys.exit(1)
    export_registry(path, dest, private_tables=current_app.config.get("PRIVATE_TABLES", ()))
    click.echo(f"Exported {path} to {dest}")
