"""The tracer command line: parse, call the library, format.

Heavy imports (numpy, pandas, numba, duckdb) happen inside commands so that
``tracer --help`` answers at once. Library errors are mapped to one-line
messages and exit codes in one place: :class:`TracerGroup`.
"""

import os
import shlex
import sys

import click

from loaders import KINDS as SOURCE_KINDS  # cheap: no pandas on the --help path

FORMATS = ("table", "csv", "json", "parquet")


class TracerGroup(click.Group):
    """Maps library errors to one message with a hint and exit code 1."""

    def invoke(self, ctx):
        from tracer.errors import TracerError

        try:
            return super().invoke(ctx)
        except TracerError as exc:
            message, hint = exc.message, exc.hint or ""
            if not getattr(ctx.obj, "show_pii", False):
                message, hint = masked_error_text(message, exc.keys), masked_error_text(hint, exc.keys)
            click.echo(f"Error: {message}", err=True)
            if hint:
                click.echo(f"Hint: {hint}", err=True)
            ctx.exit(exc.exit_code)
        except KeyboardInterrupt:
            click.echo("Interrupted; the store is unchanged by the unfinished step.", err=True)
            ctx.exit(130)


def masked_error_text(text, keys):
    """An error's text with the person keys it quotes masked as tables
    mask them (longest first), then IDs and phones masked by pattern."""
    from tracer.privacy import mask_key, mask_message

    keys = sorted(set(keys), key=len, reverse=True)
    for key, shown in zip(keys, mask_key(keys) if keys else []):
        text = text.replace(key, shown)
    return mask_message(text)


class Settings:
    """Global options, shared by every command through ``ctx.obj``."""

    def __init__(self, store, show_pii, quiet, tz, neo4j_uri=None):
        self.store_path = store
        self.neo4j_uri = neo4j_uri
        self.show_pii = show_pii
        self.quiet = quiet or not sys.stderr.isatty()  # no progress bars
        self.quiet_summary = quiet
        self.tz = tz

    def open_store(self, read_only=False, embedded=False, create=False):
        """The Neo4j store with --neo4j-uri (unless ``embedded``), else the
        DuckDB file, which only ``load`` (``create``) may create."""
        if self.neo4j_uri and not embedded:
            return self.open_neo4j()
        from tracer.store import open_store

        return open_store(self.store_path, read_only=read_only, create=create)

    def open_neo4j(self):
        import logging

        from queries.neo4j_store import Neo4jStore

        logging.getLogger("neo4j").setLevel(logging.ERROR)  # the driver's retry chatter
        return Neo4jStore(self.neo4j_uri)

    def say(self, message):
        """A summary line to stderr (data go to stdout), unless --quiet."""
        if not self.quiet_summary:
            click.echo(message, err=True)

    def progress(self, label):
        """A context manager yielding a ``progress(*stage, done, total)``
        callback that draws a rich progress bar on stderr, or None when
        stderr is not a terminal or with --quiet."""
        import contextlib

        if self.quiet:
            return contextlib.nullcontext(None)
        return _progress_bar(label)


def output_options(func):
    """``--format`` and ``-o``: the one output path of every command that returns rows."""
    func = click.option(
        "-o", "--output", type=click.Path(dir_okay=False, writable=True), help="Write rows to this file instead of stdout."
    )(func)
    func = click.option(
        "--format", "fmt", type=click.Choice(FORMATS), default="table", show_default=True, help="Output format."
    )(func)
    return func


@click.group(cls=TracerGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.option(
    "--store",
    envvar="TRACER_STORE",
    default="tracer.duckdb",
    show_default=True,
    type=click.Path(dir_okay=False),
    help="The embedded store (a DuckDB file); env TRACER_STORE.",
)
@click.option(
    "--neo4j-uri", envvar="NEO4J_URI",
    help="Use the Neo4j store at this Bolt URI instead of the embedded one (env NEO4J_URI; "
    "user and password from NEO4J_USER, NEO4J_PASSWORD).",
)  # fmt: skip
@click.option("--show-pii", is_flag=True, help="Show names, ID numbers, phones, plates and home addresses unmasked.")
@click.option("-q", "--quiet", is_flag=True, help="No progress bars or summaries on stderr.")
@click.option("--tz", default="Asia/Shanghai", show_default=True, help="Zone of naive times in inputs and outputs.")
@click.version_option(package_name="tracer", prog_name="tracer")
@click.pass_context
def main(ctx, store, neo4j_uri, show_pii, quiet, tz):
    """tracer: find and rank the B-class contacts of A-class cases.

    A-class people are confirmed cases (or people from a key area); B-class
    people shared a place and a time with them. Load presences, then trace.
    """
    ctx.obj = Settings(store, show_pii, quiet, tz, neo4j_uri)


def _load_help():
    from loaders import KINDS, describe_template

    lines = "\n".join(describe_template(k) for k in KINDS)
    return (
        "Load raw FILES of one source KIND into the store.\n\n"
        "Every row is loaded, counted as a duplicate (already in this batch or the "
        "store), or rejected with a reason: read = loaded + duplicates + rejected. "
        "All FILES go into the store in one atomic batch; loading the same file "
        "again adds nothing. KIND auto tells each file's kind from its headers "
        "(all files are checked before anything is loaded; a case list is skipped) "
        "and loads each kind as one batch, household registrations first and grid "
        "last. CSV (UTF-8, UTF-8 "
        "with BOM, GB18030 detected), XLSX or Parquet, with English or Chinese "
        "headers (* = required; title lines above the header are skipped, with a "
        "note; an XLSX workbook is read from its first sheet and refused when "
        "another sheet holds rows of the same kind):\n\n\b\n" + lines
    )


@main.command(help=_load_help())
@click.argument("kind", type=click.Choice(("auto", *SOURCE_KINDS)))
@click.argument("files", nargs=-1, required=True, type=click.Path())
@click.option("--encoding", help="Override the detected encoding of CSV files (e.g. gb18030).")
@click.option("--mapping", type=click.Path(dir_okay=False), help="JSON object or source,target CSV renaming headers.")
@click.option("--dwell-min", type=click.FloatRange(0, min_open=True), help="Venue stay when no exit scan [60].")
@click.option("--rejects", type=click.Path(dir_okay=False), help="Write rejected rows (file, line, field, code, raw) as CSV.")
@click.option("--warnings", "warnings_file", type=click.Path(dir_okay=False), help="Write repaired-value warnings as CSV.")
@click.option("--format", "fmt", type=click.Choice(["table", "json"]), default="table", help="Summary format.")
@click.pass_obj
def load(settings, kind, files, encoding, mapping, dwell_min, rejects, warnings_file, fmt):
    import json

    import loaders

    if kind == "auto":
        from loaders.detect import group_by_kind

        groups, case_lists = group_by_kind(files, encoding, mapping)  # every file checked before anything is loaded
        for path in case_lists:
            settings.say(f"skipped {path}: a case list, not a source (use it with trace --cases)")
    else:
        groups = {kind: list(files)}
    reports = {}
    with settings.open_store(create=True) as store:
        for one, paths in groups.items():
            with settings.progress(f"load {one}") as progress:
                reports[one] = loaders.load_files(
                    store, one, paths, encoding=encoding, mapping=mapping, tz=settings.tz,
                    dwell_min=dwell_min, progress=progress,
                )  # fmt: skip
            if kind == "auto" and fmt != "json":
                settings.say(f"{one}:")
                for line in reports[one].summary_lines():
                    settings.say("  " + line)
    if rejects:
        mask_raw_cells(settings, _concat_rows(r.rejects for r in reports.values())).to_csv(rejects, index=False)
    if warnings_file:
        frame = _concat_rows(r.warning_rows for r in reports.values())
        mask_raw_cells(settings, frame).to_csv(warnings_file, index=False)
    if fmt == "json":
        out = {k: r.to_dict() for k, r in reports.items()} if kind == "auto" else reports[kind].to_dict()
        click.echo(json.dumps(out, ensure_ascii=False))
    elif kind != "auto":
        for line in reports[kind].summary_lines():
            settings.say(line)


def _concat_rows(frames):
    import pandas as pd

    frames = list(frames)
    return frames[0] if len(frames) == 1 else pd.concat(frames, ignore_index=True)


@main.command()
@click.option(
    "--cases", "cases_file", type=click.Path(),
    help="CSV/XLSX case list: person (or id_number/证件号码, phone/手机号码), onset/发病日期 "
    "[, sampled/采样日期, isolated/隔离日期].",
)  # fmt: skip
@click.option(
    "--case", "case_keys", multiple=True,
    help="A case's person key, or its ID/mobile number as typed (repeatable); needs --onset.",
)  # fmt: skip
@click.option("--onset", "onsets", multiple=True, help="Onset date/time of each --case (local time).")
@click.option("--hops", type=click.IntRange(1, 3), default=1, show_default=True, help="Trace contacts of contacts.")
@click.option("--min-risk", type=click.FloatRange(0, 1), default=0.0, show_default=True, help="Drop lower risks.")
@click.option(
    "--linger-min", type=click.FloatRange(0), help="Pad each case's stay by M minutes (default: per-kind model values; 0 = off)."
)
@click.option("--pre-onset-days", type=click.FloatRange(0), help="Infectious days before onset [model: 2].")
@click.option(
    "--window-days", type=click.FloatRange(0, min_open=True),
    help="Infectious days after onset for a case with no isolation date [model: 10].",
)  # fmt: skip
@click.option("--limit", type=int, default=50, show_default=True, help="Rows shown in a table (0 = all).")
@click.option("--save/--no-save", default=True, show_default=True, help="Save the run in the store for explain/report.")
@click.option(
    "--contact-info", is_flag=True,
    help="Add name, phone and district after person, for the officers who call contacts (masked unless --show-pii).",
)  # fmt: skip
@output_options
@click.pass_obj
def trace(
    settings, cases_file, case_keys, onsets, hops, min_risk, linger_min, pre_onset_days, window_days, limit, save,
    contact_info, fmt, output,
):
    """Rank the B-class contacts of A-class cases.

    Columns: rank, person, risk, rule, hop, source_case, first_contact,
    overlap_min, events.
    """
    import dataclasses

    from tracer.config import ModelConfig
    from tracer.tracing import CONTACT_COLUMNS
    from tracer.tracing import trace as run

    cases = read_cases(settings, cases_file, case_keys, onsets)
    cfg = ModelConfig()
    if linger_min is not None:
        cfg = dataclasses.replace(cfg, linger_s=tuple(int(linger_min * 60) for _ in cfg.linger_s))
    if window_days is not None:
        cfg = dataclasses.replace(cfg, post_onset_days=float(window_days))
    with settings.open_store() as store, settings.progress("trace") as progress:
        cases = typed_case_keys(settings, store, cases)
        result = run(
            store, cases, hops=hops, min_risk=min_risk, linger=linger_min != 0,
            pre_onset_days=pre_onset_days, config=cfg, tz=settings.tz, progress=progress,
        )  # fmt: skip
        say_traced_as(settings, cases["person"], result.cases["person"])
        run_id = store.save_run(result) if save else None
        contacts = result.contacts[CONTACT_COLUMNS]
        if contact_info:
            from tracer.details import DETAIL_COLUMNS, contact_details

            details = contact_details(store, contacts["person"])
            at = CONTACT_COLUMNS.index("person") + 1
            contacts = contacts.copy()
            for i, col in enumerate(DETAIL_COLUMNS):
                contacts.insert(at + i, col, details[col].to_numpy(dtype=object))
    emit(settings, contacts, fmt, output, limit=limit, person_cols=("person", "source_case"))
    settings.say(
        f"{len(result.cases)} case(s), {len(result.contacts)} contact(s) from {result.n_events:,} co-presence(s)"
        + (f"; saved as run {run_id}" if run_id else "")
    )


@main.command()
@click.option("-o", "--output", "directory", required=True, type=click.Path(file_okay=False), help="Output directory.")
@click.option("--people", type=click.IntRange(100), default=5000, show_default=True, help="Residents of the city.")
@click.option("--days", type=click.IntRange(2, 60), default=14, show_default=True, help="Simulated days.")
@click.option("--seed", type=int, default=7, show_default=True, help="Random seed (same seed, same files).")
@click.option("--mess", type=click.FloatRange(0, 1), default=0.03, show_default=True, help="Share of messy rows.")
@click.pass_obj
def generate(settings, directory, people, days, seed, mess):
    """Write raw source files of a synthetic city with an outbreak.

    One file (or two) per source kind, in the loaders' templates, with mixed
    encodings, Chinese or English headers and realistic mess (typos, old
    IDs, other time formats, missing exit scans, duplicates, invalid rows,
    a phone shared within a family); plus cases.csv (the A-class list),
    expected_load.json and truth/ (infections, clean presences, every
    injected change).
    """
    from loaders.generate import write_raw_sources

    with settings.progress("generate") as progress:
        out = write_raw_sources(directory, n_people=people, days=days, seed=seed, tz=settings.tz, mess=mess,
                                progress=progress)  # fmt: skip
    rows = [{"kind": kind, "file": os.path.relpath(p, directory)} for kind, paths in out.files.items() for p in paths]
    emit(settings, pd_frame(rows), "table", None)
    settings.say(f"{out.n_presences:,} presences of {people:,} people over {days} days in {directory}")
    settings.say(f"cases: {out.cases_path}; ground truth: {out.truth_dir}")


@main.command()
@output_options
@click.pass_obj
def runs(settings, fmt, output):
    """List the saved trace runs, oldest first (ids for --run).

    Shows each run's id, when it was saved (local time, --tz) and its main
    parameters: hops, min_risk, linger, pre_onset_days.
    """
    with settings.open_store(read_only=True) as store:
        frame = store.runs()
    emit(settings, runs_table(frame, settings.tz), fmt, output)
    settings.say(f"{len(frame):,} saved run(s)" + ("; the latest is used when --run is not given" if len(frame) else ""))


def runs_table(frame, tz):
    """``id, created, hops, min_risk, linger, pre_onset_days`` of saved runs."""
    import json

    import pandas as pd

    params = [json.loads(p or "{}") for p in frame["params"]]
    created = pd.to_datetime(frame["created"]).dt.tz_localize("UTC").dt.tz_convert(tz).dt.strftime("%Y-%m-%d %H:%M:%S")
    table = pd.DataFrame({"id": frame["id"].astype(str).to_numpy(object), "created": created.to_numpy(object)})
    for name in ("hops", "min_risk", "linger", "pre_onset_days"):
        table[name] = [p.get(name) for p in params]
    return table


@main.command()
@click.option("--run", "run_id", help="A saved trace run id (`tracer runs` lists them) [the latest].")
@click.option("-o", "--output", default="report.html", show_default=True, type=click.Path(dir_okay=False))
@click.option("--top", type=click.IntRange(1), default=200, show_default=True, help="Contacts in the table.")
@click.pass_obj
def report(settings, run_id, output, top):
    """Write a self-contained HTML report of a trace run (works offline).

    Summary, ranked table, an interactive contact graph (click a node for
    its evidence) and per-case timelines. Personal data are masked unless
    --show-pii. Reads the run from Neo4j with --neo4j-uri (tracing its cases
    again for the evidence, as explain does).
    """
    write_report(settings, run_id, output, top)
    settings.say(f"wrote {output}")


def write_report(settings, run_id, output, top=200, store=None):
    from tracer.report import build_report, case_presences

    from tracer.explain import with_evidence

    def build(st):
        run = with_evidence(st, st.load_run(run_id))
        keys = set(run.contacts["person"]) | set(run.contacts["source_case"])
        cases = sorted(set(run.contacts["source_case"]))
        presences = case_presences(st, cases) if cases else None
        persons = st.persons(sorted(keys)) if keys else None
        build_report(run, path=output, tz=settings.tz, show_pii=settings.show_pii, top=top,
                     presences=presences, persons=persons)  # fmt: skip

    if store is not None:
        return build(store)
    with settings.open_store(read_only=True) as st:
        return build(st)


@main.command()
@click.option("--batch-rows", type=click.IntRange(100), default=20_000, show_default=True, help="Rows per transaction.")
@click.option("--no-runs", is_flag=True, help="Copy presences only, not the saved trace runs.")
@click.option(
    "--bulk", is_flag=True,
    help="Offline bulk import into an EMPTY local database (scripts/neo4j: stops, imports, restarts the server).",
)  # fmt: skip
@click.option("--force", is_flag=True, help="With --bulk: replace a database that is not empty.")
@click.option("--neo4j-dir", envvar="NEO4J_DIR", type=click.Path(file_okay=False), help="With --bulk: the server home of scripts/neo4j [.neo4j].")
@click.pass_obj
def push(settings, batch_rows, no_runs, bulk, force, neo4j_dir):
    """Copy the embedded store (and saved trace runs) into Neo4j.

    Needs --neo4j-uri (or NEO4J_URI). Idempotent: what Neo4j already holds is
    not written again, so an interrupted push completes when run again.
    Trace runs become (:TraceRun) nodes and EXPOSED_TO edges for Browser.
    --bulk writes CSV files and uses neo4j-admin's offline import instead of
    Bolt transactions: several times faster for an empty database, but it
    stops and restarts the local server (the Bolt port must be the one
    scripts/neo4j uses).
    """
    if not settings.neo4j_uri:
        raise click.UsageError("push needs --neo4j-uri or NEO4J_URI (e.g. bolt://127.0.0.1:7687)")
    if force and not bulk:
        raise click.UsageError("--force only goes with --bulk")
    with settings.open_store(read_only=True, embedded=True) as duck, settings.progress("push") as progress:
        if bulk:
            from queries.bulk import bulk_push

            res = bulk_push(duck, uri=settings.neo4j_uri, progress=progress, force=force, neo4j_dir=neo4j_dir,
                            runs=not no_runs)  # fmt: skip
        else:
            from queries.push import push as run_push

            with settings.open_neo4j() as neo:
                res = run_push(duck, neo, batch_rows=batch_rows, progress=progress, runs=not no_runs)
    settings.say(
        f"pushed to {settings.neo4j_uri}: {res.presences_read:,} presences read = {res.presences_loaded:,} written"
        f" + {res.presences_present:,} already there; {res.persons:,} persons, {res.places:,} places,"
        f" {res.runs} trace run(s); {res.seconds:.1f} s"
    )
    if getattr(res, "merged_persons", 0):
        settings.say(f"retired {res.merged_persons:,} phone key(s) merged into ID holders since an earlier push")
    settings.say("Open http://127.0.0.1:7474/browser/ and see queries/browser/GUIDE.md")


@main.command()
@click.argument("directory", default="tracer-demo", type=click.Path(file_okay=False))
@click.option("--people", type=click.IntRange(100), default=5000, show_default=True, help="Residents of the city.")
@click.option("--days", type=click.IntRange(2, 60), default=14, show_default=True, help="Simulated days.")
@click.option("--seed", type=int, default=7, show_default=True, help="Random seed (same seed, same city).")
@click.option("--top", type=int, default=15, show_default=True, help="Contacts shown.")
@click.pass_obj
def demo(settings, directory, people, days, seed, top):
    """Generate a small city with an outbreak, load it, trace its A-class cases.

    Writes raw source files to DIRECTORY/raw, loads every source kind into
    DIRECTORY/tracer.duckdb (its own store; --store is not used), shows the
    load accounting (rejects included), traces the cases with 2 hops, prints
    the top B-class contacts with the evidence columns, writes
    DIRECTORY/report.html, and says what to try next.
    """
    import time

    import loaders
    from loaders.generate import write_raw_sources
    from tracer.duck import DuckStore
    from tracer.tracing import CONTACT_COLUMNS
    from tracer.tracing import trace as run

    t0 = time.perf_counter()
    warm = _warm_up_kernels()
    settings.say(f"1/4 Generating raw source files of a city of {people:,} people over {days} days (seed {seed}) ...")
    with settings.progress("generate") as progress:
        gen = write_raw_sources(os.path.join(directory, "raw"), n_people=people, days=days, seed=seed,
                                tz=settings.tz, progress=progress)  # fmt: skip
    store_path = os.path.join(directory, "tracer.duckdb")
    for suffix in ("", ".wal"):
        if os.path.exists(store_path + suffix):
            os.remove(store_path + suffix)
    settings.say(f"2/4 Loading every source into {store_path} ...")
    with DuckStore(store_path) as store:
        for kind, paths in gen.files.items():
            with settings.progress(f"load {kind}") as progress:
                rep = loaders.load_files(store, kind, paths, tz=settings.tz, progress=progress)
            codes = ", ".join(f"{code} {n}" for code, n in sorted(rep.by_code.items())) or "none"
            settings.say(
                f"    {kind:<11} read {rep.read:>7,} = loaded {rep.loaded:>7,} + duplicates {rep.duplicates:>5,}"
                f" + rejected {rep.rejected:>4,} ({codes}); {sum(rep.warnings.values()):,} warning(s)"
            )
        cases = read_cases_file(gen.cases_path)
        settings.say(f"3/4 Tracing {len(cases)} A-class case(s) with 2 hops ...")
        if warm is not None:
            warm.wait()
        with settings.progress("trace") as progress:
            result = run(store, cases, hops=2, tz=settings.tz, progress=progress)
        run_id = store.save_run(result)
        emit(settings, result.contacts[CONTACT_COLUMNS], "table", None, limit=top,
             person_cols=("person", "source_case"))  # fmt: skip
        report_path = os.path.join(directory, "report.html")
        settings.say(f"4/4 Writing {report_path} ...")
        write_report(settings, run_id, report_path, store=store)
    first_case = result.contacts["source_case"].iat[0] if len(result.contacts) else "CASE"
    masked_case = mask_frame(settings, pd_frame({"k": [first_case]}), ("k",))["k"].iat[0]
    # Quoted for the shell: '#1' would start a comment, a masked key holds '*'.
    store_q, case_q, cases_q = (shlex.quote(str(v)) for v in (store_path, masked_case, gen.cases_path))
    settings.say(
        f"{len(result.contacts):,} contact(s) from {result.n_events:,} co-presence(s); run {run_id};"
        f" {time.perf_counter() - t0:.1f} s in all.\n"
        "Next:\n"
        f"  tracer --store {store_q} explain {case_q} '#1'     # the evidence behind the top contact\n"
        f"  {report_path} in a web browser: contact graph, timelines, ranked table\n"
        f"  tracer --store {store_q} trace --cases {cases_q} --hops 3 --contact-info --format csv -o contacts.csv"
        "     # with name, phone, district (masked unless --show-pii)\n"
        f"  bash scripts/neo4j start && tracer --store {store_q} --neo4j-uri bolt://127.0.0.1:7687 push\n"
        "  then open http://127.0.0.1:7474/browser/ (queries/browser/GUIDE.md walks through a run)"
    )


def _warm_up_kernels():
    """Compile the numba kernels in a second process while this one
    generates and loads (2 cores: compilation is most of a first run).
    Returns the process, or None when the cache is already warm."""
    import subprocess

    try:
        return subprocess.Popen(
            [sys.executable, "-c", "import tracer.warmup as w; w.warm_up()"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )  # fmt: skip
    except OSError:
        return None


def read_cases_file(path):
    from loaders.cases import read_cases

    return read_cases(path)


@main.command()
@click.argument("case")
@click.argument("contact")
@click.option("--run", "run_id", help="A saved trace run id (`tracer runs` lists them) [the latest].")
@output_options
@click.pass_obj
def explain(settings, case, contact, run_id, fmt, output):
    """The evidence behind one CONTACT's risk from A-class CASE.

    CASE and CONTACT are person keys as loaded (or another identifier of the
    person: a phone, an ID or mobile number as typed), masked keys as printed
    (if they match one person), or for the contact its rank as #N. Lists each
    co-presence (place, kind, start, end, overlap, seat distance, p_event)
    along the chain case -> ... -> contact, and the rule class. A Neo4j run
    (saved without its co-presences) is traced again from its saved cases
    and parameters, and must reproduce the saved contacts.
    """
    from tracer.explain import explain_saved

    with settings.open_store(read_only=True) as store:
        case, contact = typed_key(settings, store, case), typed_key(settings, store, contact)
        run, ex = explain_saved(store, run_id, case, contact)
    masked = mask_frame(settings, pd_frame({"key": ex.chain}), ("key",))["key"].tolist()
    c = ex.contact
    settings.say(
        f"run {run.id}: contact {masked[-1]}: risk {c['risk']:.4g}, {c['rule']} contact, hop {int(c['hop'])},"
        f" {int(c['events'])} event(s), {float(c['overlap_min']):.0f} min in all"
    )
    settings.say("chain: " + " -> ".join(masked))
    emit(settings, ex.evidence, fmt, output, person_cols=("source", "contact"))


def pd_frame(data):
    import pandas as pd

    return pd.DataFrame(data)


def _progress_bar(label):
    import contextlib

    from rich.console import Console
    from rich.progress import BarColumn, Progress, TaskProgressColumn, TextColumn, TimeElapsedColumn

    @contextlib.contextmanager
    def bar():
        columns = (TextColumn("{task.description}"), BarColumn(), TaskProgressColumn(), TimeElapsedColumn())
        with Progress(*columns, console=Console(stderr=True), transient=True) as prog:
            task = prog.add_task(label, total=None)

            def update(*args):
                *stage, done, total = args
                desc = f"{label}: {stage[0]}" if stage else label
                prog.update(task, completed=done, total=total or None, description=desc)

            yield update

    return bar()


def read_cases(settings, cases_file, case_keys, onsets):
    """The case list from ``--cases FILE`` or repeated ``--case/--onset``."""
    import pandas as pd

    if cases_file and case_keys:
        raise click.UsageError("give either --cases FILE or --case/--onset, not both")
    if cases_file:
        return read_cases_file(cases_file)
    if not case_keys:
        raise click.UsageError("no cases: give --cases FILE or --case KEY --onset DATE")
    if len(onsets) != len(case_keys):
        raise click.UsageError("give one --onset for each --case")
    return pd.DataFrame({"person": list(case_keys), "onset": list(onsets)})


def typed_case_keys(settings, store, cases):
    """Cases with each key the store does not hold, but whose normalised form
    it does (a bare or +86 phone number, a lower-case x, a 15-digit ID),
    read as that form; a note on stderr for each. Keys held as given are
    never changed, and unknown ones are left for the trace to report."""
    if "person" not in getattr(cases, "columns", ()) or not len(cases):
        return cases
    given = cases["person"].astype(str).str.strip()
    if _known(store, given.tolist()):
        return cases
    from loaders.ids import person_key_candidates

    candidates = person_key_candidates(given)
    cases = cases.copy()
    for i in range(len(given)):
        other = _typed_form(settings, store, given.iat[i], candidates.iat[i])
        if other is not None:
            cases.iloc[i, cases.columns.get_loc("person")] = other
    return cases


def say_traced_as(settings, given, traced):
    """A note for each case key that the trace resolved to another key of
    the same person (an alias such as a phone, or a merged phone key):
    ``traced`` is the trace's own case list, in the order given."""
    for key, person in zip(given.astype(str).str.strip(), traced.astype(str)):
        if person != key:
            note = f"case key {key} is traced as {person} (another identifier of the same person)"
            settings.say(note if settings.show_pii else masked_error_text(note, [key, person]))


def typed_key(settings, store, key):
    """One person key (``explain``'s CASE/CONTACT) read as :func:`typed_case_keys`
    reads case keys; ranks (#N) and masked keys pass through."""
    key = str(key).strip()
    if key.startswith("#") or "*" in key:
        return key
    from loaders.ids import person_key_candidates

    other = _typed_form(settings, store, key, person_key_candidates([key]).iat[0])
    return key if other is None else other


def _typed_form(settings, store, key, other):
    """``other`` (the normalised form of ``key``) when the store holds it and
    not ``key`` itself, with a note on stderr; else None."""
    if not isinstance(other, str) or other == key or _known(store, key) or not _known(store, other):
        return None
    note = f"key {key} read as {other}"
    settings.say(note if settings.show_pii else masked_error_text(note, [key, other]))
    return other


def _known(store, keys):
    """Whether the store knows a key (or every key of a list)."""
    from tracer.errors import UnknownPerson

    try:
        store.person_codes([keys] if isinstance(keys, str) else keys)
        return True
    except UnknownPerson:
        return False


def mask_frame(settings, frame, person_cols):
    """Mask personal identifiers unless ``--show-pii``: person keys in
    ``person_cols``, plates and home addresses in a ``place`` column, and
    the ``name`` and ``phone`` ("; "-joined numbers) of contact details."""
    if settings.show_pii:
        return frame
    from tracer.privacy import mask_key, mask_name, mask_phone, mask_place

    frame = frame.copy()
    if "name" in frame.columns:
        frame["name"] = _mask_present(frame["name"], mask_name)
    if "phone" in frame.columns:
        frame["phone"] = _mask_present(
            frame["phone"], lambda s: mask_phone(s.str.split("; ").explode()).groupby(level=0).agg("; ".join)
        )  # fmt: skip
    for col in person_cols:
        if col in frame.columns:
            frame[col] = mask_key(frame[col])
    if "place" in frame.columns:
        frame["place"] = mask_place(frame["place"])
    return frame


def _mask_present(values, mask):
    """``mask`` applied to the present values of a Series; missing ones stay None."""
    import numpy as np
    import pandas as pd

    out = pd.Series(np.full(len(values), None, dtype=object), index=values.index, dtype=object)
    has = values.notna().to_numpy()
    if has.any():
        present = values[has].astype(str)
        out[has] = mask(present).reindex(present.index).to_numpy(dtype=object)
    return out


_NAME_HEADERS = {"name", "姓名", "旅客姓名", "乘客姓名"}


def mask_raw_cells(settings, frame):
    """Rejects and warnings keep each row's raw cells (as JSON) so the data
    can be fixed; unless --show-pii, names, ID numbers and phones in them
    are masked like everywhere else."""
    if settings.show_pii or frame.empty or "raw" not in frame.columns:
        return frame
    import json

    from tracer.privacy import mask_message, mask_name

    def mask(text):
        try:
            cells = json.loads(text)
        except (TypeError, ValueError):
            return mask_message(str(text))
        for key, value in cells.items():
            if isinstance(value, str):
                is_name = str(key).strip().lower() in _NAME_HEADERS
                cells[key] = mask_name([value])[0] if is_name else mask_message(value)
        return json.dumps(cells, ensure_ascii=False)

    out = frame.assign(raw=frame["raw"].map(mask))
    if "message" in out.columns:
        out["message"] = out["message"].map(lambda m: mask_message(str(m)))
    return out


def emit(settings, frame, fmt, output, limit=0, person_cols=()):
    """The one output routine: table (rich), csv, json or parquet."""
    frame = mask_frame(settings, frame, person_cols)
    if fmt == "parquet":
        if not output:
            raise click.UsageError("--format parquet needs -o FILE")
        frame.to_parquet(output, index=False)
        return
    if fmt == "csv":
        text = _with_time_texts(frame, "csv").to_csv(index=False)
    elif fmt == "json":
        text = _with_time_texts(frame, "json").to_json(orient="records", date_format="iso", force_ascii=False,
                                                       indent=None) + "\n"
    else:
        text = None
    if text is not None:
        if output:
            with open(output, "w", encoding="utf-8", newline="") as fh:
                fh.write(text)
        else:
            click.echo(text, nl=False)
        return
    print_table(frame, output, limit)


def _with_time_texts(frame, style):
    """``frame`` with its tz-aware time columns as the text pandas would
    write for them (:func:`tracer.timeutil.time_texts`: the same text, built
    in one vectorised pass instead of one Python object a row)."""
    import pandas as pd

    from tracer.timeutil import time_texts

    texts = {}
    for col in frame.columns:
        if isinstance(frame[col].dtype, pd.DatetimeTZDtype):
            text = time_texts(frame[col], style)
            if text is not None:
                texts[col] = pd.Series(text, index=frame.index, dtype=object)
    return frame.assign(**texts) if texts else frame


def print_table(frame, output, limit):
    from rich import box
    from rich.console import Console
    from rich.table import Table

    shown = frame.head(limit) if limit else frame
    cells = [[_cell(v) for v in row] for row in shown.itertuples(index=False)]
    widths = [max([len(str(col))] + [len(row[k]) for row in cells]) for k, col in enumerate(shown.columns)]
    # Piped or written to a file: wide enough that nothing is cut.
    wide = bool(output) or not sys.stdout.isatty()
    console = Console(file=open(output, "w", encoding="utf-8") if output else None, width=220 if wide else None)
    keep_cols = fit_columns(widths, [any(row[k] for row in cells) for k in range(len(widths))], console.width)
    table = Table(show_header=True, header_style="bold", box=box.SIMPLE_HEAD, pad_edge=False)
    for k in keep_cols:
        col, width = shown.columns[k], widths[k]
        numeric = shown[col].dtype.kind in "iuf"
        # Keys and numbers are never cut; long text (times, places) may wrap.
        keep = numeric or width <= 20
        table.add_column(str(col), justify="right" if numeric else "left", no_wrap=keep,
                         min_width=min(width, 20) if keep else 10)  # fmt: skip
    for row in cells:
        table.add_row(*(row[k] for k in keep_cols))
    console.print(table)
    hidden = [str(shown.columns[k]) for k in range(len(widths)) if k not in keep_cols]
    if hidden:
        click.echo(f"({len(hidden)} column(s) hidden at {console.width} columns: {', '.join(hidden)}; "
                   "widen the terminal or use --format csv / -o FILE for all)", err=True)  # fmt: skip
    if limit and len(frame) > limit:
        click.echo(f"... {len(frame) - limit} more row(s); use --limit 0 or --format csv for all", err=True)


def fit_columns(widths, filled, available, gap=2):
    """Indices of the columns to show in ``available`` characters.

    Everything fits: all columns. Otherwise columns with no value are
    dropped first, then columns from the right (the table's least important
    end), never the first two.

    >>> fit_columns([4, 18, 6, 18], [True, True, True, False], 80)
    [0, 1, 2, 3]
    >>> fit_columns([4, 18, 6, 18, 16], [True, True, True, False, True], 50)
    [0, 1, 2, 4]
    >>> fit_columns([4, 18, 6, 18, 16], [True] * 5, 40)
    [0, 1, 2]
    """
    keep = list(range(len(widths)))

    def total():
        return sum(widths[k] for k in keep) + gap * max(len(keep) - 1, 0)

    for k in [k for k in keep[2:] if not filled[k]]:
        if total() <= available:
            break
        keep.remove(k)
    while total() > available and len(keep) > 2:
        keep.pop()
    return keep


def _cell(value):
    import pandas as pd

    if isinstance(value, float):
        return f"{value:.4g}"
    if isinstance(value, pd.Timestamp):
        return value.strftime("%Y-%m-%d %H:%M")
    return "" if value is None else str(value)


if __name__ == "__main__":  # pragma: no cover
    main()
