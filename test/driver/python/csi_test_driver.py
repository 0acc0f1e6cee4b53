#!/usr/bin/python3
"""A real CSI driver process for tests on gRPC C-core (Debian's python3-grpcio),
the stack Python CSI drivers run: the same flags, stdin control lines and
stdout events as the grpc-js test driver (../csi-test-driver.ts). Identity
messages are encoded by hand and served through generic handlers, so nothing
is generated from the .proto."""

import argparse
import json
import os
import sys
import threading
import time
from concurrent import futures

import grpc

parser = argparse.ArgumentParser()
parser.add_argument("--socket", default="")
parser.add_argument("--tcp", default="")
parser.add_argument("--name", default="test.csi.example.com")
parser.add_argument("--vendor-version", default="1.0.0")
parser.add_argument("--probe-delay-ms", type=int, default=0)
parser.add_argument("--ready", default="true")
parser.add_argument("--probe-error", default="")
parser.add_argument("--probe-error-message", default="driver failure injected by test")
parser.add_argument("--info-error", default="")
parser.add_argument("--hang-probe", action="store_true")
parser.add_argument("--probe-answer-bytes", type=int, default=0)
parser.add_argument("--quiet", action="store_true")
flags = parser.parse_args()

# The JSON names are the grpc-js driver's.
behaviour = {
    "name": flags.name,
    "vendorVersion": flags.vendor_version,
    "probeDelayMs": flags.probe_delay_ms,
    "ready": flags.ready,
    "probeError": flags.probe_error,
    "probeErrorMessage": flags.probe_error_message,
    "infoError": flags.info_error,
    "hangProbe": flags.hang_probe,
    "probeAnswerBytes": flags.probe_answer_bytes,
}
lock = threading.Lock()
call_counts = {}


def report(event):
    with lock:
        sys.stdout.write(json.dumps(event, ensure_ascii=False, separators=(",", ":")) + "\n")
        sys.stdout.flush()


def count_call(method):
    with lock:
        call_counts[method] = call_counts.get(method, 0) + 1
        count = call_counts[method]
        current = dict(behaviour)
    if not flags.quiet:
        report({"event": "call", "method": method, "count": count})
    return current


def varint(value):
    out = bytearray()
    while value > 0x7F:
        out.append((value & 0x7F) | 0x80)
        value >>= 7
    out.append(value)
    return bytes(out)


def length_delimited(field, payload):
    return varint(field << 3 | 2) + varint(len(payload)) + payload


def plugin_info_message(b):
    entry = length_delimited(1, b"test") + length_delimited(2, b"true")
    return (length_delimited(1, b["name"].encode()) + length_delimited(2, b["vendorVersion"].encode())
            + length_delimited(3, entry))


def probe_message(b):
    out = b""
    if b["ready"] == "true":
        out = length_delimited(1, b"\x08\x01")
    elif b["ready"] == "false":
        out = length_delimited(1, b"")  # BoolValue{value: false} encodes as an empty message
    total = b["probeAnswerBytes"]
    for length_bytes in range(1, 6):  # pad with the unknown field 15 to exactly `total` bytes
        pad = total - len(out) - 1 - length_bytes
        if total > 0 and pad > 0 and len(varint(pad)) == length_bytes:
            return out + b"\x7a" + varint(pad) + b"a" * pad
    return out


def fail(context, code_name, message):
    code = getattr(grpc.StatusCode, code_name, None)
    if code is None:
        context.abort(grpc.StatusCode.INTERNAL, "unknown gRPC status name " + code_name)
    context.abort(code, message)


def get_plugin_info(_request, context):
    b = count_call("GetPluginInfo")
    if b["infoError"]:
        fail(context, b["infoError"], "GetPluginInfo failure injected by test")
    return plugin_info_message(b)


def get_plugin_capabilities(_request, _context):
    count_call("GetPluginCapabilities")
    return b""


def probe(_request, context):
    b = count_call("Probe")
    if b["hangProbe"]:
        while context.is_active():  # never answer: the caller's deadline must save it
            time.sleep(0.05)
        return b""
    if b["probeDelayMs"] > 0:
        time.sleep(b["probeDelayMs"] / 1000)
    if b["probeError"]:
        fail(context, b["probeError"], b["probeErrorMessage"])
    return probe_message(b)


def raw(handler):
    return grpc.unary_unary_rpc_method_handler(handler, request_deserializer=None, response_serializer=None)


def apply_control(line):
    try:
        command = json.loads(line)
    except ValueError:
        report({"event": "error", "message": "control line is not JSON: " + line})
        return
    if isinstance(command.get("exit"), int):
        os._exit(command["exit"])
    with lock:
        unknown = [key for key in command if key not in behaviour]
        for key, value in command.items():
            if key in behaviour:
                behaviour[key] = value
        current = dict(behaviour)
    for key in unknown:
        report({"event": "error", "message": "unknown control key " + key})
    report({"event": "applied", "behaviour": current})


def main():
    server = grpc.server(futures.ThreadPoolExecutor(max_workers=64))
    server.add_generic_rpc_handlers((grpc.method_handlers_generic_handler("csi.v1.Identity", {
        "GetPluginInfo": raw(get_plugin_info),
        "GetPluginCapabilities": raw(get_plugin_capabilities),
        "Probe": raw(probe),
    }),))
    if flags.socket:
        try:
            os.remove(flags.socket)  # a stale socket from an earlier run, as real drivers do
        except FileNotFoundError:
            pass
        server.add_insecure_port("unix://" + flags.socket)
        address = flags.socket
    elif flags.tcp:
        host = flags.tcp.rsplit(":", 1)[0]
        port = server.add_insecure_port(flags.tcp)
        address = "%s:%d" % (host, port)
    else:
        report({"event": "error", "message": "give --socket PATH or --tcp HOST:PORT"})
        sys.exit(1)
    server.start()
    report({"event": "listening", "address": address})
    # Stdin closing means the test that started us is gone: do not linger.
    for line in sys.stdin:
        apply_control(line.rstrip("\n"))
    os._exit(0)


main()
