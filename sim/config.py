"""The bridge between Hydra's ``conf/`` and the typed ``SimConfig``.

Registers the dataclass schemas in Hydra's ConfigStore (so a misspelt key or a wrong type
fails at compose time), composes configs from Python (``load_config``), expands sweep
overrides so that every job of a sweep can be validated before any starts, and turns
Hydra's exceptions into one-line ``ConfigError`` messages. The model never imports this
module: Hydra stays at the edge.
"""

from __future__ import annotations

import contextlib
import copy
import dataclasses
import hashlib
import json
import re
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path
from typing import Any

import yaml
from hydra import compose, initialize_config_dir
from hydra.core.config_store import ConfigStore
from hydra.errors import HydraException
from omegaconf import MISSING, DictConfig, OmegaConf, open_dict
from omegaconf.errors import InterpolationResolutionError, OmegaConfBaseException

from sim.limits import check_fits
from sim.params import (
    CAUSES,
    BehaviourParams,
    ConfigError,
    OrgParams,
    ScenarioParams,
    SimConfig,
    build_config,
    config_dict,
)
from sim.study import safe_name

CONF_DIR = Path(__file__).resolve().parent.parent / "conf"


def register_schemas() -> None:
    """Register the schema as ``base_config``, the first entry of ``conf/config.yaml``.

    It is ``SimConfig`` with every organisation field and the scenario's name and tactics
    marked missing (``???``): an organisation or scenario file must set each of them, so a
    file that forgets one fails loudly instead of silently taking the built-in default.
    Behavioural parameters keep their defaults (the files override a few of them).
    """
    node = OmegaConf.structured(SimConfig)
    for f in dataclasses.fields(OrgParams):
        if f.name not in CAUSES:  # causes of misalignment are optional: off when left out
            node.org[f.name] = MISSING
    node.scenario.name = MISSING
    node.scenario.tactics = MISSING  # a scenario file says which (baseline: none)
    ConfigStore.instance().store(name="base_config", node=node)


register_schemas()


def to_sim_config(cfg: DictConfig, overrides: Sequence[str] = ()) -> SimConfig:
    """Turn a composed Hydra config into a validated ``SimConfig``.

    ``overrides`` are the command line's: when they change the scenario's funnel or tactics,
    the run is labelled ``<scenario>~<hash of its funnel and tactics>`` (``scenario_label``),
    so that it is never paired or averaged with the runs of the unchanged scenario file.
    """
    missing = sorted(k for k in _missing_keys(cfg) if not k.startswith("hydra."))
    if missing:
        group = missing[0].split(".")[0]
        raise ConfigError(
            f"{missing[0]}: missing value; the {group} file must set it "
            f"(missing: {', '.join(missing)})"
        )
    try:
        data: dict[str, Any] = OmegaConf.to_container(cfg, resolve=True, enum_to_str=True)
    except OmegaConfBaseException as exc:
        raise ConfigError(clean_message(exc)) from None
    data.pop("hydra", None)
    sim_cfg = build_config(data)
    safe_name(sim_cfg.org.name, "org.name")
    safe_name(sim_cfg.scenario.name, "scenario.name")
    if any(SCENARIO_EDIT.match(o.split("=", 1)[0]) for o in overrides):
        sim_cfg.scenario.name = scenario_label(sim_cfg)
    return sim_cfg


# An override that changes the scenario's content (not the choice of scenario file):
# scenario.funnel=..., scenario.tactics.x.y=..., +tactic@scenario.tactics.x=x, ~scenario.tactics.x
SCENARIO_EDIT = re.compile(r"^[+~]*(scenario\.|[\w/]+@scenario\.)")


def scenario_label(sim_cfg: SimConfig) -> str:
    """``<scenario file>~<6 hex digits>``: the name of a scenario changed on the command line.

    The digits hash the funnel and the tactics with their parameters, so the same change
    gets the same label however it is written, and a different change a different one.
    """
    scenario = config_dict(sim_cfg)["scenario"]
    content = json.dumps([scenario["funnel"], scenario["tactics"]], sort_keys=True, default=str)
    base = sim_cfg.scenario.name.split("~", 1)[0]
    return f"{base}~{hashlib.sha256(content.encode()).hexdigest()[:6]}"


def _missing_keys(cfg: DictConfig, prefix: str = "") -> list[str]:
    keys = []
    for key in cfg:
        full = f"{prefix}{key}"
        if OmegaConf.is_missing(cfg, key):
            keys.append(full)
        elif isinstance(cfg._get_node(key), DictConfig) and key != "hydra":
            keys += _missing_keys(cfg[key], f"{full}.")
    return keys


def load_config(overrides: list[str] | None = None, config_name: str = "config") -> SimConfig:
    """Compose ``conf/<config_name>.yaml`` with ``overrides`` and validate it.

    Raises:
        ConfigError: with one clear line naming the key, the value and what is allowed.
    """
    overrides = list(overrides or [])
    check_override_keys(overrides)
    return to_sim_config(compose_raw(overrides, config_name), overrides)


def check_override_keys(overrides: Sequence[str]) -> None:
    """Refuse overrides that would silently break a run's identity.

    A scenario's name is its file's name: ``scenario.name=foo`` would make runs of different
    scenarios look alike (and, in a sweep, write into each other's folders).
    """
    for override in overrides:
        key = override.split("=", 1)[0].lstrip("+~")
        if key == "scenario.name":
            raise ConfigError(
                f"{override}: a scenario's name is its file's name; to define a new scenario, "
                "add scenario/<name>.yaml to conf/ or to a --config-dir directory"
            )


def config_dir_args(argv: list[str]) -> list[str]:
    """Turn ``--config-dir DIR`` (``-cd DIR``, ``--config-dir=DIR``) into a search-path override.

    ``DIR`` is added to Hydra's config search path after ``conf/``, so ``DIR/org/mine.yaml``
    is ``org=mine``: the way to keep a client's organisation outside the repository. As an
    override (``hydra.searchpath=[file://DIR]``) it reaches every composition the same way:
    the up-front check, Hydra's own run, and the sweep's jobs.

    Raises:
        ConfigError: ``DIR`` is not a directory, or ``--config-path`` (which would replace
            ``conf/`` and its schema) is given.
    """
    out: list[str] = []
    dirs: list[str] = []
    args = iter(argv)
    for arg in args:
        name, eq, value = arg.partition("=")
        if name in ("--config-dir", "-cd"):
            value = value if eq else next(args, "")
            if not value or not Path(value).is_dir():
                raise ConfigError(f"--config-dir {value!r}: no such directory")
            dirs.append(f"file://{Path(value).resolve()}")
        elif name in ("--config-path", "-cp"):
            raise ConfigError(
                f"{arg}: not supported (it would replace conf/); use --config-dir DIR to add "
                "your own org/, scenario/ or behaviour/ files beside the built-in ones"
            )
        else:
            out.append(arg)
    if dirs:
        if any(a.split("=", 1)[0].lstrip("+") == "hydra.searchpath" for a in out):
            raise ConfigError("--config-dir and hydra.searchpath=: give one of them, not both")
        out.append(f"hydra.searchpath=[{','.join(dirs)}]")
    return out


def _check_config_dir(directory: Path) -> None:
    """Refuse a search-path directory (``--config-dir``) whose files would be lost or hang.

    Hydra takes the first file of a name along its search path, and ``conf/`` comes first:
    ``DIR/org/small.yaml`` would silently lose to the built-in ``small``. Its files are also
    scanned like ``conf/``'s (UTF-8, no YAML anchors or aliases).
    """
    check_config_files(directory)
    for path in sorted(directory.rglob("*.yaml")):
        shadowed = CONF_DIR / path.relative_to(directory)
        if shadowed.exists():
            raise ConfigError(
                f"{path}: has the name of a built-in file ({_relative(str(shadowed))}), which "
                "Hydra would use instead; give yours another name (the name is what you choose "
                f"with {path.parent.name}=...)"
            )


def resolve_output_dir(overrides: list[str], multirun: bool, config_name: str = "config") -> Path:
    """The directory a run (or a sweep) with these overrides writes into, its timestamp fixed now.

    The caller passes it to Hydra (``hydra.run.dir=...`` or ``hydra.sweep.dir=...``), so the
    directory it checked and locked is the one Hydra uses.
    """
    job = expand_sweep(overrides)[0] if multirun and overrides else list(overrides)
    settings = hydra_settings(job, config_name)
    return Path(settings["sweep_dir"] if multirun else settings["run_dir"])


def hydra_settings(overrides: list[str], config_name: str = "config") -> dict[str, Any]:
    """Hydra's own settings for these overrides, composed and resolved now.

    ``sweep_dir`` and ``run_dir`` (``hydra.sweep.dir``, ``hydra.run.dir``, their timestamps
    fixed now) and ``launcher`` (the ``hydra.launcher`` node, as a dict). A sweep's first job
    stands for the sweep (sweep syntax is expanded first).
    """
    job = expand_sweep(overrides)[0] if overrides else []
    with config_errors(), initialize_config_dir(config_dir=str(CONF_DIR), version_base="1.3"):
        cfg = compose(config_name=config_name, overrides=job, return_hydra_config=True)
        return {
            "sweep_dir": str(cfg.hydra.sweep.dir),
            "run_dir": str(cfg.hydra.run.dir),
            "launcher": OmegaConf.to_container(cfg.hydra.launcher, resolve=True),
        }


def compose_raw(overrides: list[str], config_name: str = "config") -> DictConfig:
    """Compose without validating ranges (Hydra's own key and type checks still apply).

    Every composition of ``conf/`` goes through here (``load_config``, the checks of a command
    line and of each sweep job), so the config files are checked here first
    (``check_config_files``).
    """
    check_config_files()
    for directory in searchpath_dirs(overrides):  # --config-dir's files too
        _check_config_dir(directory)
    with config_errors(), initialize_config_dir(config_dir=str(CONF_DIR), version_base="1.3"):
        cfg = compose(config_name=config_name, overrides=list(overrides), return_hydra_config=True)
        return _without_hydra_node(cfg)


def _choice(group: str, *, _root_: DictConfig) -> Any:
    """``${choice:org}``: the option chosen for a config group, that is, its file's name.

    Read from the config's own ``hydra`` node where it has one (Hydra's launching process,
    ``compose_raw``), else from the running job's Hydra config (a job gets no ``hydra`` node).
    Hydra's ``${hydra:runtime.choices.org}`` does only the latter, so it fails where a sweep's
    directory is named, before any job runs.
    """
    if "hydra" in _root_:
        choices = _root_.hydra.runtime.choices
    else:
        from hydra.core.hydra_config import HydraConfig

        choices = HydraConfig.get().runtime.choices
    choice = choices.get(group)
    return MISSING if choice is None else choice  # ~org: no file, no name (a missing value)


if not OmegaConf.has_resolver("choice"):
    OmegaConf.register_new_resolver("choice", _choice)


def _without_hydra_node(cfg: DictConfig) -> DictConfig:
    """Resolve the values that use ``${choice:...}``, then drop the ``hydra`` node.

    ``compose()`` drops the ``hydra`` node that ``${choice:...}`` reads (``conf/config.yaml``
    names the org and the scenario with it), so it is asked to keep it, and those values are
    resolved before it is dropped here.
    """
    raw = OmegaConf.to_container(cfg, resolve=False)
    found: list[str] = []

    def walk(node: Any, path: str) -> None:
        for key, value in node.items():
            if isinstance(value, dict):
                walk(value, f"{path}{key}.")
            elif isinstance(value, str) and "${choice:" in value:
                found.append(f"{path}{key}")

    walk({k: v for k, v in raw.items() if k != "hydra"}, "")
    for key in found:
        OmegaConf.update(cfg, key, OmegaConf.select(cfg, key, default=MISSING))
    with open_dict(cfg):
        del cfg["hydra"]
    return cfg


_CHECKED: dict[Path, tuple[int, int]] = {}  # file -> (mtime in ns, size) when last found clean


def searchpath_dirs(overrides: Sequence[str]) -> list[Path]:
    """The local directories a ``hydra.searchpath=[file://...]`` override adds."""
    dirs = []
    for override in overrides:
        key, _, value = override.lstrip("+").partition("=")
        if key == "hydra.searchpath":
            for item in value.strip("[]").split(","):
                if item.strip().startswith("file://"):
                    dirs.append(Path(item.strip().removeprefix("file://")))
    return dirs


def check_config_files(conf_dir: Path = CONF_DIR) -> None:
    """Refuse a config file that is not UTF-8 or uses YAML anchors or aliases, naming it.

    Before Hydra reads any file: an alias bomb (a few lines whose aliases nest, the "billion
    laughs") is cheap for the YAML parser, which shares the repeated nodes, but OmegaConf
    copies every one of them, so composing it never ends. Config files here have no use for
    anchors. ``yaml.scan`` reads tokens only, in linear time, without expanding anything.
    Every ``*.yaml`` under ``conf_dir`` is checked, since any of them can be chosen or
    included; a file is checked again only when its time stamp or size changes.
    """
    for path in sorted(conf_dir.rglob("*.yaml")):
        stat = path.stat()
        stamp = (stat.st_mtime_ns, stat.st_size)
        if _CHECKED.get(path) != stamp:
            _check_config_file(path)
            _CHECKED[path] = stamp


def _check_config_file(path: Path) -> None:
    raw = path.read_bytes()
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = raw.count(b"\n", 0, exc.start) + 1
        raise ConfigError(
            f"{_relative(str(path))}, line {line}: not UTF-8 text (byte 0x{raw[exc.start]:02x}); "
            "save the file as UTF-8"
        ) from None
    try:
        for token in yaml.scan(text, Loader=yaml.SafeLoader):
            if isinstance(token, yaml.AnchorToken | yaml.AliasToken):
                mark = token.start_mark
                raise ConfigError(
                    f"{_relative(str(path))}, line {mark.line + 1}, column {mark.column + 1}: "
                    "YAML anchors and aliases (&name, *name) are not allowed in config files; "
                    "write the values out"
                )
    except yaml.YAMLError:
        pass  # malformed: Hydra reports it with its line when it reads the file


@contextlib.contextmanager
def config_errors() -> Iterator[None]:
    """Turn YAML, Hydra and OmegaConf errors raised inside into one-line ``ConfigError``s."""
    try:
        yield
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = (
            f"{_relative(mark.name)}, line {mark.line + 1}, column {mark.column + 1}"
            if mark
            else "a config file"
        )
        raise ConfigError(f"{where}: malformed YAML ({getattr(exc, 'problem', exc)})") from None
    except (HydraException, OmegaConfBaseException, ValueError) as exc:
        if isinstance(exc, ConfigError):
            raise
        raise ConfigError(clean_message(exc)) from None


def _relative(path: str) -> str:
    try:
        return str(Path(path).resolve().relative_to(CONF_DIR.parent))
    except ValueError:
        return path


def choice_override(group: str, names: Iterable[str]) -> str:
    """The override choosing ``names`` (one, or a sweep over several) of config group ``group``.

    A name Hydra would read as another type (``2024``, ``1e3``, ``true``, ``null``) is quoted,
    so it stays the name of a file: unquoted, Hydra refuses it ("Config group override must
    be a string") or, for ``007``, keeps it only by luck of its grammar.
    """
    from hydra.core.override_parser.overrides_parser import OverridesParser

    parser = OverridesParser.create()
    quoted = []
    for name in names:
        name = str(name)
        try:
            plain = isinstance(parser.parse_override(f"{group}={name}").value(), str)
        except HydraException:
            plain = False
        quoted.append(name if plain else "'" + name.replace("\\", "\\\\").replace("'", "\\'") + "'")
    return f"{group}={','.join(quoted)}"


def expand_sweep(overrides: list[str]) -> list[list[str]]:
    """Expand sweep overrides (``seed=1,2,3``, ``scenario=glob(*)``, ``range(...)``) into jobs."""
    from hydra._internal.core_plugins.basic_sweeper import BasicSweeper
    from hydra.core.override_parser.overrides_parser import OverridesParser

    try:
        parser = OverridesParser.create(config_loader=_conf_loader())
        return BasicSweeper.split_arguments(parser.parse_overrides(list(overrides)), None)[0]
    except (HydraException, OmegaConfBaseException) as exc:
        raise ConfigError(clean_message(exc)) from None


class SweepComposer:
    """Composes many jobs' configs, with one full Hydra composition per choice of groups.

    A Hydra composition costs tens of milliseconds (the defaults tree, file loads, merges),
    which made checking a sweep before it starts the slowest part of a large one. Jobs of a
    sweep mostly differ only in plain values (``seed=3``, ``org.n_reps=10``), and Hydra
    applies those after composing, to the composed config: so a job is composed here as
    Hydra does, but reusing the composition of its config-group choices (``scenario=...``,
    ``org=...``, ``+tactic@...``, and every ``hydra...`` override) and applying its value
    overrides to a copy with Hydra's own function. The config, and every error, is the one
    Hydra's full composition gives (``tests/test_config.py`` checks this), except Hydra's
    record of the job's own overrides (``hydra.overrides.task``, ``hydra.job.override_dirname``),
    which lists only the group choices: use it to check jobs, not to launch them. With a
    ``hydra.searchpath`` override every job is composed in full.

    ``compose(overrides)`` takes one job's overrides; ``full(overrides)`` is the uncached
    composition of a list of overrides, supplied by the caller (Hydra's config loader in
    the sweeper, ``compose_raw`` for ``conf/`` here).
    """

    def __init__(self, loader: Any, full: Any) -> None:
        from hydra.core.override_parser.overrides_parser import OverridesParser

        self._parser = OverridesParser.create(config_loader=loader)
        self._repo = loader.repository
        self._full = full
        self._cache: dict[tuple[str, ...], DictConfig] = {}

    def _is_structural(self, override: Any) -> bool:
        """Whether ``override`` goes to the full composition.

        That is: a config-group choice, any of Hydra's own settings, and sweep syntax (which
        Hydra refuses outside ``-m``).
        """
        key = override.key_or_group
        if key == "hydra" or key.startswith(("hydra.", "hydra/")) or override.is_sweep_override():
            return True
        # Hydra's own rule (hydra._internal.defaults_list.Overrides): a value override is
        # one whose key is not a config group, or whose value is a dict.
        return self._repo.group_exists(key) and not isinstance(override.value(), dict)

    def compose(self, overrides: list[str]) -> DictConfig:
        """The composed config of one job (without sweep syntax)."""
        from hydra._internal.config_loader_impl import ConfigLoaderImpl

        parsed = self._parser.parse_overrides(list(overrides))
        if any(o.key_or_group.startswith("hydra.searchpath") for o in parsed):
            # another search path can add config groups this composer's repository lacks
            return self._full(list(overrides))
        structural: list[str] = []
        values = []
        for override in parsed:
            if self._is_structural(override):
                structural.append(override.input_line)
            else:
                values.append(override)
        key = tuple(structural)
        if key not in self._cache:
            self._cache[key] = self._full(structural)
        cfg = copy.deepcopy(self._cache[key])
        ConfigLoaderImpl._apply_overrides_to_config(values, cfg)
        return cfg

    def distinct(self, jobs: Iterable[Sequence[str]]) -> list[list[str]]:
        """The jobs whose checks cover all of ``jobs``, in order.

        That is, the first of each set of jobs that differ only in their plain ``seed=<n>``.
        Any whole number >= 0 is a valid seed whatever the rest of the config: Hydra types it
        as an integer and ``SimConfig`` checks it alone. So such jobs compose to one config
        but for the seed and stand or fall together, and a sweep over 20,000 seeds is
        checked with one composition and one validation per choice of the other overrides.
        """
        if self._repo.group_exists("seed"):
            return [list(job) for job in jobs]
        first: dict[tuple[str, ...], list[str]] = {}
        for job in jobs:
            key = tuple("seed" if _PLAIN_SEED.fullmatch(o) else o for o in job)
            first.setdefault(key, list(job))
        return list(first.values())


_PLAIN_SEED = re.compile(r"seed=(0|[1-9][0-9]*)")


def validate_overrides(
    overrides: list[str],
    multirun: bool,
    config_name: str = "config",
    configs: list[SimConfig] | None = None,
) -> int:
    """Compose and validate every job the command line asks for; return how many there are.

    A job is valid if its config is, and if it fits this machine's memory
    (``sim.limits.check_fits``; the journey log, if recorded, is streamed to a file).
    Every job is covered, whatever the size of the sweep: jobs that differ only in their
    seed are checked once (``SweepComposer.distinct``), and a composition is made once per
    choice of config groups (``SweepComposer.compose``). ``configs``, if given, receives the
    validated ``SimConfig`` of each job checked (one per seed-free variant).

    Raises:
        ConfigError: for the first invalid job, naming its overrides.
    """
    jobs = expand_sweep(overrides) if multirun else [list(overrides)]
    composer = conf_composer(config_name)
    check_override_keys(overrides)
    for job in composer.distinct(jobs):
        try:
            with config_errors():
                cfg = composer.compose(job)
            sim_cfg = to_sim_config(cfg, job)
            check_fits(sim_cfg)
            if configs is not None:
                configs.append(sim_cfg)
        except ConfigError as exc:
            where = f" (in sweep job: {' '.join(job)})" if multirun and len(jobs) > 1 else ""
            raise ConfigError(f"{exc}{where}") from None
    return len(jobs)


def group_options(
    group: str, overrides: Sequence[str] = (), config_name: str = "config"
) -> list[str]:
    """The options of config group ``group`` (``conf/`` and any ``--config-dir``), sorted."""
    searchpath = [o for o in overrides if o.lstrip("+").startswith("hydra.searchpath=")]
    with config_errors():
        return sorted(
            _conf_loader().get_group_options(group, config_name=config_name, overrides=searchpath)
        )


def conf_composer(config_name: str = "config") -> SweepComposer:
    """A ``SweepComposer`` over ``conf/``."""
    return SweepComposer(_conf_loader(), lambda overrides: compose_raw(overrides, config_name))


def _conf_loader() -> Any:
    from hydra._internal.config_loader_impl import ConfigLoaderImpl
    from hydra._internal.utils import create_config_search_path

    return ConfigLoaderImpl(config_search_path=create_config_search_path(str(CONF_DIR)))


_GROUP_MISSING = re.compile(r"Could not find '([\w/]+)/([^']+)'")
_OVERRIDE = re.compile(r"override '?([^'\s]+?)'?\.?$")
_FULL_KEY = re.compile(r"full_key: (\S+)")
_APPEND = re.compile(r"To append to your config use (\+\S+)")
_SCHEMAS = {
    "OrgParams": OrgParams,
    "BehaviourParams": BehaviourParams,
    "SimConfig": SimConfig,
    "ScenarioParams": ScenarioParams,
}


def clean_message(exc: BaseException) -> str:
    """One readable line from a Hydra/OmegaConf exception: the key, the value, what is allowed."""
    text = str(exc).strip()
    missing = _GROUP_MISSING.search(text)
    if missing:
        group, name = missing.groups()
        # Hydra lists the options of every directory on its search path (--config-dir too);
        # without that list, its own view of conf/, its configs and its plugins' (launchers)
        listed = re.search(r"Available options in '[^']+':\n((?:\t.*\n?)+)", text)
        options = (
            [line.strip() for line in listed.group(1).splitlines() if line.strip()]
            if listed
            else _conf_loader().repository.get_group_options(group)
        )
        return f"{group}={name}: no such {group}; choose one of: {', '.join(sorted(options))}"
    lines = text.splitlines()
    head = lines[0] if lines else type(exc).__name__
    full_key = getattr(exc, "full_key", None)
    if isinstance(exc, InterpolationResolutionError) and full_key:
        return f"{full_key}: cannot resolve its interpolation (${{...}}): {head}"
    ambiguous = re.match(r"Ambiguous value for argument '([^']+)'", head)
    if ambiguous:  # sweep syntax in a single run
        return (
            f"{ambiguous.group(1)}: a list of values; to sweep over them add -m "
            "(python -m sim -m ...), for one list value write key=[a,b], for a string quote it"
        )
    # OmegaConf's detail is in the chained exception, or in the message's later lines.
    cause = str(exc.__cause__ or exc.__context__ or "").strip() or "\n".join(lines[1:]).strip()
    if type(exc).__name__ == "OverrideParseException":
        override = str(getattr(exc, "override", ""))
        key, _, value = override.partition("=")
        if not value.isascii():
            return (
                f"{override}: a value with non-ASCII characters must be quoted: {key}='{value}' "
                f"(in a shell: \"{key}='{value}'\")"
            )
        return f"cannot parse the command-line override: {head}"
    in_file = re.match(r"In '([\w/]+)':", head)
    if in_file:  # an error inside a config file: say which file, then what is wrong
        name = f"{in_file.group(1)}.yaml"  # conf/'s, or one of a --config-dir
        where = f"conf/{name}" if (CONF_DIR / name).exists() else name
        return f"{where}: {_describe(cause, '', '') or head}"
    match = _OVERRIDE.search(head)
    override = match.group(1) if match else ""
    append = _APPEND.search(text)
    key = override.split("=", 1)[0].lstrip("+~")
    return _describe(cause, override, key, append.group(1) if append else "") or head


def _describe(cause: str, override: str, key: str, append: str = "") -> str:
    """Say what OmegaConf's ``cause`` means for ``key`` (set by ``override``).

    ``append`` is the override with a leading ``+`` that Hydra suggests, if any.
    """
    detail = cause.splitlines()[0].strip() if cause else ""
    full_key = _FULL_KEY.search(cause)
    full_key = full_key.group(1) if full_key else key
    if full_key.startswith("scenario.tactics.") and "not in struct" in detail:
        tactic = full_key.split(".")[2]
        if full_key == f"scenario.tactics.{tactic}._target_":  # allowed, but not in the file
            return (
                f"{full_key}: the {tactic} tactic's file sets no _target_, so add the key with "
                f"a leading +: {append or '+' + full_key + '=<module.Class>'}"
            )
        if detail.startswith(f"Key '{tactic}'"):
            return (
                f"{full_key}: the chosen scenario has no '{tactic}' tactic; pick a scenario "
                f"that has it, or add it with +tactic@scenario.tactics.{tactic}={tactic}"
            )
        from sim.tactics import tactic_class

        try:
            names = ", ".join(f.name for f in dataclasses.fields(tactic_class(tactic)))
        except ConfigError:
            names = "(unknown tactic)"
        return f"{full_key}: unknown parameter of tactic '{tactic}'; allowed keys are {names}"
    if detail.startswith("Key '") and " not in " in detail:
        schema = _SCHEMAS.get(detail.rsplit("'", 2)[-2]) if detail.endswith("'") else None
        allowed = (
            f"; allowed keys are {', '.join(f.name for f in dataclasses.fields(schema))}"
            if schema
            else ""
        )
        return f"{full_key}: unknown key{allowed}"
    if detail:
        return f"{override or full_key}: {detail}" if (override or full_key) else detail
    return ""
