"""Running the service: the history writer, the state, the triggers' clock and the run
folder's watcher around one uvicorn server, bound to 127.0.0.1 unless told otherwise.
``start`` runs it in a thread (tests, the benchmark); ``serve`` in the foreground (the CLI)."""

from __future__ import annotations

import datetime as dt
import errno
import signal
import socket
import sys
import threading
from dataclasses import dataclass
from pathlib import Path
from types import FrameType

import uvicorn

from engine.errors import CvmError, Problem, UsageError
from engine.history import open_history
from engine.history.store import check_integrity
from engine.project.config import load_config
from engine.serve.app import create_app
from engine.serve.events import Triggers
from engine.serve.journal import Journal, last_alive, past_events
from engine.serve.opt_outs import OptOuts
from engine.serve.rundata import manifest_stamp, run_folder
from engine.serve.security import MAX_BODY
from engine.serve.service import Service
from engine.serve.state import Holder, ServeState, load_state
from engine.words import counted

TICK_SECONDS = 1.0  # how often waiting triggers (absence) are advanced
OPT_OUT_SECONDS = 1.0  # how often the history is asked whether responses were imported


@dataclass(frozen=True)
class Options:
    project: Path
    config_file: Path | None = None
    run: Path | None = None
    host: str = "127.0.0.1"
    port: int = 8000
    history: bool = True
    watch_seconds: float = 2.0  # 0: reload only when asked (POST /v1/admin/reload)
    max_body: int = MAX_BODY
    access_log: bool = True
    docs: bool = True  # /docs, /redoc and /openapi.json, public (no customer data in them)


class Running:
    """A started service: its URL, its parts, and ``stop``."""

    def __init__(self, options: Options, key: str) -> None:
        self.options = options
        config = load_config(options.project, config_file=options.config_file)
        self.folder = run_folder(config, options.run)
        store = open_history(config, create=True) if options.history else None
        if store is not None:  # interactions are written into it: not into a damaged file
            try:
                check_integrity(store)
            except BaseException:
                store.close()
                raise
        self.journal = Journal(store, on_error=_say) if store is not None else None
        # every opt-out of the history, reread as imports land (``_reread``), through a
        # read-only store of its own: never waiting on the history's write lock
        self.opt_outs = OptOuts(config)
        self._reloading = threading.Lock()
        try:
            self.holder = Holder(self._load())
            self.triggers = Triggers(self.holder.state.project)
            self.service = Service(self.holder, self.journal, self.triggers, self.replacing)
            self._replay(self.triggers, self.holder.state, startup=True)
            self.sock = _bind(options.host, options.port)
        except BaseException:
            if self.journal is not None:
                self.journal.close()
            self.opt_outs.close()
            raise
        self.port = self.sock.getsockname()[1]
        self.app = create_app(self.service, key, max_body=options.max_body, docs=options.docs)
        self.server = _Server(uvicorn.Config(
            self.app, log_level="warning" if not options.access_log else "info",
            access_log=options.access_log, lifespan="off", server_header=False))
        self._stop = threading.Event()
        self._threads = [threading.Thread(target=self._tick, daemon=True, name="cvm-tick"),
                         threading.Thread(target=self._reread, daemon=True,
                                          name="cvm-opt-outs")]
        if options.watch_seconds > 0:
            self._threads.append(threading.Thread(target=self._watch, daemon=True,
                                                  name="cvm-watch"))

    @property
    def url(self) -> str:
        host = self.options.host
        return f"http://{'[' + host + ']' if ':' in host else host}:{self.port}"

    def _load(self) -> ServeState:
        o = self.options
        return load_state(o.project, config_file=o.config_file, run=o.run,
                          opt_outs=self.opt_outs)

    def reload(self, why: str = "asked by POST /v1/admin/reload") -> ServeState:
        """Load the run folder again; on any failure keep the run served, and say why (the
        log, /ready's ``reload_error``) until a load succeeds. A load that succeeds is said
        on the log too (``why``: what asked for it), as the start-up is, unless --quiet.
        One at a time, whole (the watcher's and POST's): each starts from what the one
        before it served, and swaps the triggers after it."""
        return self.replacing(why)[1]

    def replacing(self, why: str = "asked by POST /v1/admin/reload") -> tuple[str, ServeState]:
        """``reload``, with the run it replaced: the one served when it began (read once the
        reload before it, if any, is done)."""
        with self._reloading:
            before = self.holder.state.run_id
            return before, self._reload(why, before)

    def reload_changed(self, why: str) -> ServeState | None:
        """The watcher's ``reload``: none when, once the reload before it is done, the run
        folder's manifest is the one served (a reload it waited for loaded it already)."""
        with self._reloading:
            if manifest_stamp(self.folder) == self.holder.state.stamp:
                return None
            return self._reload(why, self.holder.state.run_id)

    def _reload(self, why: str, before: str) -> ServeState:
        o = self.options
        try:
            # the contacts given so far, in the history it reads (a writer that stopped: its
            # log says why; the load goes on, those contacts kept by the service)
            if self.journal is not None and self.journal.alive and not self.journal.flush():
                _say("the history writer did not catch up before the reload")
            state = self.holder.reload(o.project, config_file=o.config_file, run=o.run)
        except Exception as exc:
            text = exc.format() if isinstance(exc, CvmError) else \
                f"{type(exc).__name__}: {exc}"
            self.holder.failure = text
            _say(f"reload failed, still serving run {self.holder.state.run_id}: {text}")
            raise
        if state.project.triggers != self.triggers.declared:
            # changed triggers start afresh from the history's events; unchanged ones keep the
            # events they wait on
            old, new = self.triggers, Triggers(state.project)
            self._replay(new, state, startup=False)
            self.triggers = self.service.triggers = new
            old.close()  # frees its durable-rules rulesets; a request still on it retries
        if o.access_log:
            again = " again" if state.run_id == before else f", was {before}"
            print(f"Serving run {state.run_id}{again} ({counted(len(state.ready), 'customer')} "
                  f"as of {state.run.as_of}): reloaded, {why}", file=sys.stderr, flush=True)
        return state

    def _replay(self, triggers: Triggers, state: ServeState, *, startup: bool) -> None:
        """Give fresh triggers the history's events of their longest window (README "Real
        time"). At start-up, the absences whose window ended while the service was down fire
        once, recorded; on a change of triggers nothing from before fires."""
        if self.journal is None or triggers.engine is None or not triggers.window:
            return
        self.journal.flush()
        store, now = self.journal.store, dt.datetime.now(dt.timezone.utc)
        alive = (last_alive(store) if startup else None) or now
        fired = triggers.replay(past_events(store, now - dt.timedelta(seconds=triggers.window)),
                                state.ready.record, min(alive, now), now)
        if fired:
            self.service.fired(None, fired)

    def _watch(self) -> None:
        """Reload when the run folder's manifest.json is replaced (a new run landed). Any
        failure keeps the run served (``reload`` says why) and is tried again when the
        manifest changes again: this thread never dies of it."""
        failed: tuple[int, int] | None = None
        while not self._stop.wait(self.options.watch_seconds):
            try:
                stamp = manifest_stamp(self.folder)
                if stamp is None or stamp in (self.holder.state.stamp, failed):
                    continue
                failed = stamp
                self.reload_changed("the run folder's manifest.json changed")
                failed = None
            except Exception:
                continue

    def _tick(self) -> None:
        while not self._stop.wait(TICK_SECONDS):
            fired = self.triggers.advance(dt.datetime.now(dt.timezone.utc))
            if fired:
                self.service.fired(None, fired)

    def _reread(self) -> None:
        """An opt-out imported while the service runs applies within a second or two; in a
        thread of its own, so a slow history never delays the triggers' clock."""
        while not self._stop.wait(OPT_OUT_SECONDS):
            self.opt_outs.refresh(on_error=_say)

    def run(self) -> None:
        """Serve until interrupted (Ctrl-C), then record what is queued."""
        for thread in self._threads:
            thread.start()
        try:
            # uvicorn's own loop (uvloop when installed) and HTTP parser (httptools)
            self.server.run(sockets=[self.sock])
        finally:
            self._close()
        if self.server.ctrl_c and self.server.ctrl_c_ignored:
            raise KeyboardInterrupt

    def start(self) -> Running:
        """Serve in a thread; return once it answers."""
        self._thread = threading.Thread(target=self.run, daemon=True, name="cvm-serve")
        self._thread.start()
        while not self.server.started:
            if not self._thread.is_alive():
                raise RuntimeError("the service stopped while starting")
            self._stop.wait(0.01)
        return self

    def stop(self) -> None:
        self.server.should_exit = True
        self._thread.join(timeout=30)

    def _close(self) -> None:
        self._stop.set()
        for thread in self._threads:
            if thread.is_alive():
                thread.join(timeout=10)
        self.triggers.close()
        if self.journal is not None:
            self.journal.close()
        self.opt_outs.close()
        self.sock.close()


class _Server(uvicorn.Server):
    """uvicorn's server, and a Ctrl-C that stopped it: one the service started ignoring (a
    shell script's background job, nohup) is raised as an interruption once the queue is
    recorded (exit 130, ``interrupted``), where uvicorn raised it again under the ignoring
    handler it restored and the process ended with 0 and no word."""

    def __init__(self, config: uvicorn.Config) -> None:
        super().__init__(config)
        self.ctrl_c_ignored = signal.getsignal(signal.SIGINT) is signal.SIG_IGN
        self.ctrl_c = False

    def handle_exit(self, sig: int, frame: FrameType | None) -> None:
        self.ctrl_c = self.ctrl_c or sig == signal.SIGINT
        super().handle_exit(sig, frame)


def _bind(host: str, port: int) -> socket.socket:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    # IPPROTO_TCP, not 0: asyncio switches Nagle's algorithm off only on sockets that say TCP,
    # and with it on, every answer written in two parts waited 40 ms for the client's ACK
    sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
    except OSError as exc:
        sock.close()
        # a name that does not resolve, or an address that is not this machine's: the host's
        if isinstance(exc, socket.gaierror) or exc.errno == errno.EADDRNOTAVAIL:
            raise UsageError(Problem(
                f"cannot listen on {host}:{port}: {exc.strerror or exc}", key="--host",
                hint="give an address of this machine: 127.0.0.1 (this machine only) or "
                "0.0.0.0 (every network interface)")) from None
        raise UsageError(Problem(f"cannot listen on {host}:{port}: {exc.strerror or exc}",
                                 key="--port", hint="choose another --port (or stop what "
                                                    "uses it)")) from None
    sock.listen(2048)
    sock.setblocking(False)
    return sock


def _say(message: str) -> None:
    print(f"warning: {message}", file=sys.stderr, flush=True)
