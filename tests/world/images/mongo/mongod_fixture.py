"""Test fixture that stands in for ``mongod`` in dockdojo's test "mongo" image.

THIS IS NOT MONGODB.  It is a small server speaking just enough of the MongoDB
wire protocol (OP_MSG, plus legacy OP_QUERY/OP_REPLY for the handshake) for
``mongosh`` and ``pymongo`` to connect, insert, find, update, delete and
aggregate.  It exists only so dockdojo's tests can exercise the Docker lessons
without the real ``mongo`` image; never use it for anything else.

* Query engine: the ``mongomock`` PyPI package (one shared in-memory client,
  serialised by a lock), so results follow mongomock, not MongoDB.
* BSON: the ``bson`` package that ships with ``pymongo``.
* Data lives in memory and is lost when the process stops.  No auth, TLS,
  compression, replication or transactions.  Every cursor comes back whole in
  its first batch with cursor id 0.  Reported version and sizes are made up.

Usage: python mongod_fixture.py [--bind 0.0.0.0] [--port 27017]
"""

from __future__ import annotations

import argparse
import itertools
import logging
import os
import platform
import signal
import socket
import socketserver
import struct
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import bson
import mongomock
from bson.errors import BSONError
from bson.int64 import Int64
from mongomock.filtering import filter_applies

Doc = dict[str, Any]

OP_REPLY, OP_QUERY, OP_MSG = 1, 2004, 2013
CHECKSUM_PRESENT, MORE_TO_COME = 1 << 0, 1 << 1
MAX_BSON_SIZE, MAX_MESSAGE_SIZE, MAX_WRITE_BATCH = 16 * 1024 * 1024, 48_000_000, 100_000
VERSION = "7.0.0"
# Fields describing the session or transport rather than the command itself.
IGNORED_FIELDS = {
    "$db",
    "lsid",
    "$clusterTime",
    "$readPreference",
    "txnNumber",
    "autocommit",
    "startTransaction",
    "apiVersion",
    "apiStrict",
    "apiDeprecationErrors",
    "readConcern",
    "writeConcern",
    "maxTimeMS",
    "comment",
    "$client",
}
CODE_NAMES = {
    1: "InternalError",
    2: "BadValue",
    26: "NamespaceNotFound",
    48: "NamespaceExists",
    59: "CommandNotFound",
    72: "InvalidOptions",
    11000: "DuplicateKey",
}
# Real servers always list these; shown with typical fresh-install sizes.
SYSTEM_DATABASES = {"admin": 40960, "config": 12288, "local": 40960}

log = logging.getLogger("mongod-fixture")
CLIENT: mongomock.MongoClient = mongomock.MongoClient()
LOCK = threading.Lock()
STARTED = time.monotonic()
request_ids = itertools.count(1)
connection_ids = itertools.count(1)


class CommandError(Exception):
    def __init__(self, code: int, errmsg: str) -> None:
        super().__init__(errmsg)
        self.code = code


@dataclass
class Request:
    db: str
    cmd: Doc
    conn_id: int
    peer: str

    @property
    def name(self) -> str:
        return next(iter(self.cmd), "")

    @property
    def arg(self) -> Any:
        return self.cmd.get(self.name)

    @property
    def ns(self) -> str:
        return f"{self.db}.{self.arg}" if isinstance(self.arg, str) else self.db

    @property
    def coll(self) -> mongomock.Collection:
        return CLIENT[self.db][self.arg]


COMMANDS: dict[str, Callable[[Request], Doc]] = {}


def command(*names: str) -> Callable:
    def register(fn: Callable[[Request], Doc]) -> Callable[[Request], Doc]:
        COMMANDS.update((name, fn) for name in names)
        return fn

    return register


def ok(**fields: Any) -> Doc:
    return {**fields, "ok": 1.0}


def id_first(doc: Doc | None) -> Doc | None:
    """mongod always returns ``_id`` as the first field; mongomock does not."""
    return {"_id": doc["_id"], **doc} if doc and "_id" in doc else doc


def cursor(ns: str, docs: list[Doc], batch: str = "firstBatch") -> Doc:
    return ok(cursor={"id": Int64(0), "ns": ns, batch: [id_first(doc) for doc in docs]})


def error(exc: Exception) -> Doc:
    code = getattr(exc, "code", None) or (2 if isinstance(exc, mongomock.OperationFailure) else 1)
    return {
        "ok": 0.0,
        "errmsg": str(exc),
        "code": code,
        "codeName": CODE_NAMES.get(code, f"Location{code}"),
    }


def as_sort(spec: Doc | None) -> list[tuple[str, Any]] | None:
    return list(spec.items()) if spec else None


def is_replacement(update: Any) -> bool:
    return isinstance(update, dict) and not any(key.startswith("$") for key in update)


def ensure_collection(req: Request) -> None:
    """mongomock forgets a collection once it is empty; mongod keeps it until dropped."""
    if req.arg not in CLIENT[req.db].list_collection_names():
        CLIENT[req.db].create_collection(req.arg)


def strip(cmd: Doc) -> Doc:
    return {key: value for key, value in cmd.items() if key not in IGNORED_FIELDS}


# -- handshake and server information ------------------------------------------------


@command("hello", "isMaster", "ismaster")
def hello(req: Request) -> Doc:
    return ok(
        helloOk=True,
        ismaster=True,
        isWritablePrimary=True,
        maxBsonObjectSize=MAX_BSON_SIZE,
        maxMessageSizeBytes=MAX_MESSAGE_SIZE,
        maxWriteBatchSize=MAX_WRITE_BATCH,
        localTime=datetime.now(UTC),
        logicalSessionTimeoutMinutes=30,
        connectionId=req.conn_id,
        minWireVersion=0,
        maxWireVersion=17,
        readOnly=False,
    )


@command("buildInfo", "buildinfo")
def build_info(_req: Request) -> Doc:
    return ok(
        version=VERSION,
        gitVersion="dockdojo-test-fixture",
        versionArray=[int(part) for part in VERSION.split(".")] + [0],
        bits=64,
        debug=False,
        maxBsonObjectSize=MAX_BSON_SIZE,
        modules=[],
        javascriptEngine="mozjs",
        storageEngines=["devnull", "wiredTiger"],
    )


@command("getParameter")
def get_parameter(req: Request) -> Doc:
    known = {"featureCompatibilityVersion": {"version": VERSION.rsplit(".", 1)[0]}}
    wanted = known if req.arg == "*" else {k: v for k, v in known.items() if k in req.cmd}
    if not wanted:
        raise CommandError(72, "no option found to get")
    return ok(**wanted)


@command("serverStatus")
def server_status(_req: Request) -> Doc:
    uptime = time.monotonic() - STARTED
    return ok(
        host=socket.gethostname(),
        version=VERSION,
        process="mongod",
        pid=Int64(os.getpid()),
        uptime=float(int(uptime)),
        uptimeMillis=Int64(int(uptime * 1000)),
        uptimeEstimate=Int64(int(uptime)),
        localTime=datetime.now(UTC),
    )


@command("hostInfo")
def host_info(_req: Request) -> Doc:
    return ok(
        system={
            "currentTime": datetime.now(UTC),
            "hostname": socket.gethostname(),
            "cpuAddrSize": 64,
            "numCores": os.cpu_count() or 1,
            "cpuArch": platform.machine(),
        },
        os={"type": platform.system(), "name": platform.system(), "version": platform.release()},
        extra={},
    )


# Commands whose reply never changes.
STATIC_REPLIES: dict[str, Doc] = {
    "ping": {},
    "endSessions": {},
    "getLog": {"totalLinesWritten": 0, "log": []},
    "getCmdLineOpts": {"argv": ["mongod", "--bind_ip_all"], "parsed": {"net": {"bindIp": "*"}}},
    "connectionStatus": {"authInfo": {"authenticatedUsers": [], "authenticatedUserRoles": []}},
}


@command(*STATIC_REPLIES)
def static_reply(req: Request) -> Doc:
    return ok(**STATIC_REPLIES[req.name])


@command("whatsmyuri")
def whatsmyuri(req: Request) -> Doc:
    return ok(you=req.peer)


# -- databases, collections and indexes ----------------------------------------------


@command("listDatabases")
def list_databases(req: Request) -> Doc:
    sizes = dict(SYSTEM_DATABASES)
    for name in CLIENT.list_database_names():
        sizes[name] = 40960 * max(1, len(CLIENT[name].list_collection_names()))
    databases: list[Doc] = [
        {"name": name, "sizeOnDisk": Int64(size), "empty": False}
        for name, size in sorted(sizes.items())
    ]
    databases = [db for db in databases if filter_applies(req.cmd.get("filter") or {}, db)]
    if req.cmd.get("nameOnly"):
        return ok(databases=[{"name": db["name"]} for db in databases])
    return ok(databases=databases, totalSize=Int64(sum(db["sizeOnDisk"] for db in databases)))


@command("listCollections")
def list_collections(req: Request) -> Doc:
    infos = [
        {
            "name": name,
            "type": "collection",
            "options": {},
            "info": {"readOnly": False},
            "idIndex": {"v": 2, "key": {"_id": 1}, "name": "_id_"},
        }
        for name in sorted(CLIENT[req.db].list_collection_names())
    ]
    infos = [info for info in infos if filter_applies(req.cmd.get("filter") or {}, info)]
    if req.cmd.get("nameOnly"):
        infos = [{"name": info["name"], "type": info["type"]} for info in infos]
    return cursor(f"{req.db}.$cmd.listCollections", infos)


@command("create")
def create(req: Request) -> Doc:
    if req.arg in CLIENT[req.db].list_collection_names():
        raise CommandError(48, f"Collection {req.ns} already exists.")
    CLIENT[req.db].create_collection(req.arg)
    return ok()


@command("drop")
def drop(req: Request) -> Doc:
    indexes = len(req.coll.index_information())
    CLIENT[req.db].drop_collection(req.arg)
    return ok(ns=req.ns, nIndexesWas=indexes)


@command("dropDatabase")
def drop_database(req: Request) -> Doc:
    CLIENT.drop_database(req.db)
    return ok(dropped=req.db)


@command("createIndexes")
def create_indexes(req: Request) -> Doc:
    existed = req.arg in CLIENT[req.db].list_collection_names()
    before = len(req.coll.index_information()) or 1
    for spec in req.cmd.get("indexes", []):
        options = {k: v for k, v in spec.items() if k not in ("key", "v")}
        req.coll.create_index(list(spec["key"].items()), **options)
    return ok(
        numIndexesBefore=before,
        numIndexesAfter=len(req.coll.index_information()),
        createdCollectionAutomatically=not existed,
    )


@command("listIndexes")
def list_indexes(req: Request) -> Doc:
    if req.arg not in CLIENT[req.db].list_collection_names():
        raise CommandError(26, f"ns does not exist: {req.ns}")
    indexes = []
    for name, info in req.coll.index_information().items():
        options = {k: v for k, v in info.items() if k not in ("v", "key")}
        indexes.append({"v": 2, "key": dict(info["key"]), "name": name, **options})
    return cursor(req.ns, indexes)


# -- reads ---------------------------------------------------------------------------


@command("find")
def find(req: Request) -> Doc:
    docs = req.coll.find(
        req.cmd.get("filter") or {},
        req.cmd.get("projection") or None,
        skip=req.cmd.get("skip", 0),
        limit=abs(req.cmd.get("limit", 0)),
        sort=as_sort(req.cmd.get("sort")),
    )
    return cursor(req.ns, list(docs))


@command("getMore")
def get_more(req: Request) -> Doc:
    return cursor(f"{req.db}.{req.cmd.get('collection')}", [], batch="nextBatch")


@command("killCursors")
def kill_cursors(req: Request) -> Doc:
    return ok(
        cursorsKilled=[],
        cursorsNotFound=req.cmd.get("cursors", []),
        cursorsAlive=[],
        cursorsUnknown=[],
    )


@command("aggregate")
def aggregate(req: Request) -> Doc:
    if not isinstance(req.arg, str):
        raise CommandError(2, "database-level aggregate is not supported by this test fixture")
    return cursor(req.ns, list(req.coll.aggregate(req.cmd.get("pipeline", []))))


@command("count")
def count(req: Request) -> Doc:
    options = {k: abs(req.cmd[k]) for k in ("skip", "limit") if req.cmd.get(k)}
    return ok(n=req.coll.count_documents(req.cmd.get("query") or {}, **options))


@command("distinct")
def distinct(req: Request) -> Doc:
    return ok(values=req.coll.distinct(req.cmd["key"], req.cmd.get("query") or {}))


# -- writes --------------------------------------------------------------------------


def run_writes(
    req: Request, key: str, apply: Callable[[int, Doc, Doc], None], **totals: Any
) -> Doc:
    """Apply each op of a write batch; failures become writeErrors like a real server's."""
    reply: Doc = {"n": 0, **totals}
    errors = []
    for index, op in enumerate(req.cmd.get(key, [])):
        try:
            apply(index, op, reply)
        except Exception as exc:
            errors.append({"index": index, "code": error(exc)["code"], "errmsg": str(exc)})
            if req.cmd.get("ordered", True):
                break
    if errors:
        reply["writeErrors"] = errors
    return ok(**reply)


@command("insert")
def insert(req: Request) -> Doc:
    def apply(_index: int, doc: Doc, reply: Doc) -> None:
        req.coll.insert_one(doc)
        reply["n"] += 1

    ensure_collection(req)
    return run_writes(req, "documents", apply)


@command("update")
def update(req: Request) -> Doc:
    def apply(index: int, op: Doc, reply: Doc) -> None:
        upsert = op.get("upsert", False)
        if upsert:
            ensure_collection(req)
        if is_replacement(op["u"]):
            result = req.coll.replace_one(op["q"], op["u"], upsert=upsert)
        else:
            modify = req.coll.update_many if op.get("multi") else req.coll.update_one
            result = modify(op["q"], op["u"], upsert=upsert, array_filters=op.get("arrayFilters"))
        reply["n"] += result.matched_count
        reply["nModified"] += result.modified_count
        if result.upserted_id is not None:
            reply["n"] += 1
            reply.setdefault("upserted", []).append({"index": index, "_id": result.upserted_id})

    return run_writes(req, "updates", apply, nModified=0)


@command("delete")
def delete(req: Request) -> Doc:
    def apply(_index: int, op: Doc, reply: Doc) -> None:
        remove = req.coll.delete_one if op.get("limit") == 1 else req.coll.delete_many
        reply["n"] += remove(op["q"]).deleted_count

    return run_writes(req, "deletes", apply)


@command("findAndModify", "findandmodify")
def find_and_modify(req: Request) -> Doc:
    query, sort, fields = (
        req.cmd.get("query") or {},
        as_sort(req.cmd.get("sort")),
        req.cmd.get("fields"),
    )
    if req.cmd.get("remove"):
        value = req.coll.find_one_and_delete(query, projection=fields, sort=sort)
        return ok(lastErrorObject={"n": int(value is not None)}, value=id_first(value))
    existing = req.coll.find_one(query, sort=sort)
    change, upsert = req.cmd["update"], req.cmd.get("upsert", False)
    if upsert:
        ensure_collection(req)
    modify = (
        req.coll.find_one_and_replace if is_replacement(change) else req.coll.find_one_and_update
    )
    value = modify(
        query,
        change,
        projection=fields,
        sort=sort,
        upsert=upsert,
        return_document=bool(req.cmd.get("new")),
    )
    found = existing is not None
    return ok(
        lastErrorObject={"n": int(found or upsert), "updatedExisting": found}, value=id_first(value)
    )


# -- wire protocol -------------------------------------------------------------------


def execute(req: Request) -> bytes:
    """Run one command and return the encoded reply document; errors become ok: 0 replies."""
    log.info("[conn%d] %s %s", req.conn_id, req.name, req.ns)
    try:
        handler = COMMANDS.get(req.name)
        if handler is None:
            raise CommandError(59, f"no such command: '{req.name}'")
        with LOCK:
            return bson.encode(handler(req))
    except Exception as exc:
        log.info("[conn%d] %s failed: %s", req.conn_id, req.name, exc)
        return bson.encode(error(exc))


def parse_op_msg(payload: bytes) -> tuple[int, Doc]:
    """Return (flagBits, command) with kind-1 document sequences merged into the body."""
    (flags,) = struct.unpack_from("<I", payload)
    end, pos = len(payload) - (4 if flags & CHECKSUM_PRESENT else 0), 4
    body: Doc = {}
    sequences: Doc = {}
    while pos < end:
        kind, (size,) = payload[pos], struct.unpack_from("<i", payload, pos + 1)
        if kind == 0:
            body = bson.decode(payload[pos + 1 : pos + 1 + size])
        elif kind == 1:
            name, _, docs = payload[pos + 5 : pos + 1 + size].partition(b"\0")
            sequences[name.decode()] = bson.decode_all(docs)
        else:
            raise ValueError(f"unknown OP_MSG section kind {kind}")
        pos += 1 + size
    return flags, {**body, **sequences}


def parse_op_query(payload: bytes) -> tuple[str, Doc]:
    """Return (database, command) from a legacy OP_QUERY against ``db.$cmd``."""
    collection, _, rest = payload[4:].partition(b"\0")
    query = bson.decode_all(rest[8:])[0]
    return collection.decode().split(".", 1)[0], query.get("$query", query)


class Connection(socketserver.BaseRequestHandler):
    def handle(self) -> None:
        host, port = self.client_address[:2]
        conn_id, peer = next(connection_ids), f"{host}:{port}"
        log.info("[conn%d] connection accepted from %s", conn_id, peer)
        try:
            while header := self.recv_exact(16):
                length, request_id, _, opcode = struct.unpack("<iiii", header)
                if not 16 < length <= MAX_MESSAGE_SIZE:
                    raise ValueError(f"bad message length {length}")
                payload = self.recv_exact(length - 16)
                if opcode == OP_MSG:
                    flags, cmd = parse_op_msg(payload)
                    reply = execute(Request(cmd.get("$db", "admin"), strip(cmd), conn_id, peer))
                    if not flags & MORE_TO_COME:
                        self.send(request_id, OP_MSG, struct.pack("<IB", 0, 0) + reply)
                elif opcode == OP_QUERY:
                    db, cmd = parse_op_query(payload)
                    reply = execute(Request(db, strip(cmd), conn_id, peer))
                    self.send(request_id, OP_REPLY, struct.pack("<iqii", 0, 0, 0, 1) + reply)
                else:
                    log.info("[conn%d] unsupported opcode %d, closing", conn_id, opcode)
                    break
        except (OSError, ValueError, BSONError, struct.error) as exc:
            log.info("[conn%d] dropped: %s", conn_id, exc)
        finally:
            log.info("[conn%d] end connection %s", conn_id, peer)

    def recv_exact(self, size: int) -> bytes:
        """Read exactly ``size`` bytes; b"" on a clean EOF before the first byte."""
        data = b""
        while len(data) < size:
            chunk = self.request.recv(size - len(data))
            if not chunk:
                if data:
                    raise ConnectionError("connection closed mid-message")
                return b""
            data += chunk
        return data

    def send(self, response_to: int, opcode: int, body: bytes) -> None:
        header = struct.pack("<iiii", 16 + len(body), next(request_ids), response_to, opcode)
        self.request.sendall(header + body)


class Server(socketserver.ThreadingTCPServer):
    daemon_threads = True
    allow_reuse_address = True


def main() -> None:
    parser = argparse.ArgumentParser(
        description="MongoDB stand-in for dockdojo tests (NOT MongoDB)."
    )
    parser.add_argument("--bind", default="0.0.0.0", help="address to listen on (default: 0.0.0.0)")
    parser.add_argument(
        "--port", type=int, default=27017, help="port to listen on (default: 27017)"
    )
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s")

    def stop(signum: int, _frame: object) -> None:
        log.info("received %s, shutting down", signal.Signals(signum).name)
        raise SystemExit(0)

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    with Server((args.bind, args.port), Connection) as server:
        log.info(
            "mongod test fixture (not MongoDB) waiting for connections on %s:%d",
            args.bind,
            args.port,
        )
        server.serve_forever(poll_interval=0.2)


if __name__ == "__main__":
    main()
