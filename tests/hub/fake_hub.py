#!/usr/bin/env python3
"""A fake Hugging Face hub for llmkit's pull tests (python3 stdlib only).

Serves the repos found under ROOT (ROOT/<owner>/<name>/<files...>) with the
hub's public HTTP layout:

  GET /api/models/<owner>/<name>/revision/<rev>   {"id", "sha", "siblings": [{"rfilename"}]}
  GET /<owner>/<name>/resolve/<rev>/<file>        small files: 200 with a git-sha1 ETag;
                                                  "LFS" files (.safetensors, .gguf, > 1 KiB):
                                                  302 to /cdn/... with X-Linked-Etag (sha256),
                                                  X-Linked-Size and X-Repo-Commit
  GET /cdn/<owner>/<name>/<file>                  the bytes, with Range support (206)

Revisions "main" and "v1" exist; others are 404, as are unknown repos and
files. Test modes (flags):
  --gated OWNER/NAME=TOKEN  401 without "Authorization: Bearer TOKEN"
  --drop-once FILE          the first CDN GET of FILE sends half and drops the connection
  --corrupt FILE            the CDN serves FILE with one byte changed (sha256 headers unchanged)
  --evil OWNER/NAME         that repo's listing also names "../../escape.json"
  --fail-api N              the first N API requests answer 503
  --commit SHA              the commit the revisions point at (a branch that moved)
  --cdn-host HOST           redirect to http://HOST:PORT/cdn/... (another host name for
                            the same server, e.g. localhost: the token must not follow)
  --no-range                the CDN ignores Range (answers 200 with the whole file)
Every request is logged to --log as "METHOD PATH range=R auth=yes|no".
The port (bound on 127.0.0.1, chosen by the OS) is written to --port-file."""
import argparse
import hashlib
import json
import os
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import unquote



def is_lfs(path):
    return path.endswith((".safetensors", ".gguf")) or os.path.getsize(path) > 1024


class Hub(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    opts = None
    lock = threading.Lock()
    dropped = set()
    api_failures = 0

    def log_message(self, fmt, *args):
        pass

    def log_request_line(self):
        rng = self.headers.get("Range", "-")
        auth = "yes" if self.headers.get("Authorization") else "no"
        with self.lock, open(self.opts.log, "a") as f:
            f.write(f"{self.command} {self.path} range={rng} auth={auth}\n")

    def send(self, code, body=b"", headers=None, ctype="application/json"):
        self.send_response(code)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def error(self, code, msg):
        self.send(code, json.dumps({"error": msg}).encode())

    def repo_dir(self, owner, name):
        d = os.path.join(self.opts.root, owner, name)
        return d if os.path.isdir(d) and ".." not in (owner, name) else None

    def authorized(self, repo):
        for g in self.opts.gated:
            grepo, token = g.split("=", 1)
            if grepo == repo:
                return self.headers.get("Authorization") == f"Bearer {token}"
        return True

    def files(self, d):
        out = []
        for base, _, names in os.walk(d):
            for n in names:
                out.append(os.path.relpath(os.path.join(base, n), d))
        return sorted(out)

    def do_GET(self):
        self.log_request_line()
        parts = [unquote(p) for p in self.path.split("?")[0].split("/")[1:]]
        if parts[:2] == ["api", "models"] and len(parts) >= 6 and parts[4] == "revision":
            return self.api(parts[2], parts[3], "/".join(parts[5:]))
        if parts and parts[0] == "cdn" and len(parts) >= 4:
            return self.cdn(parts[1], parts[2], "/".join(parts[3:]))
        if len(parts) >= 5 and parts[2] == "resolve":
            return self.resolve(parts[0], parts[1], parts[3], "/".join(parts[4:]))
        self.error(404, "Not Found")

    def api(self, owner, name, rev):
        with self.lock:
            if Hub.api_failures < self.opts.fail_api:
                Hub.api_failures += 1
                return self.error(503, "Service Unavailable")
        repo = f"{owner}/{name}"
        d = self.repo_dir(owner, name)
        if not self.authorized(repo):
            return self.error(401, "Invalid credentials in Authorization header")
        if d is None:
            return self.error(404, "Repository not found")
        if rev not in ("main", "v1"):
            return self.error(404, "Revision Not Found")
        files = self.files(d)
        if repo in self.opts.evil:
            files.append("../../escape.json")
        body = {"id": repo, "sha": self.opts.commit, "siblings": [{"rfilename": f} for f in files]}
        self.send(200, json.dumps(body).encode(), {"X-Repo-Commit": self.opts.commit})

    def resolve(self, owner, name, rev, file):
        repo = f"{owner}/{name}"
        d = self.repo_dir(owner, name)
        if not self.authorized(repo):
            return self.error(401, "Invalid credentials in Authorization header")
        if d is None or rev not in ("main", "v1"):
            return self.error(404, "Repository or revision not found")
        path = os.path.join(d, file)
        if ".." in file.split("/") or not os.path.isfile(path):
            return self.error(404, "Entry not found")
        data = open(path, "rb").read()
        if is_lfs(path):
            sha = hashlib.sha256(data).hexdigest()
            return self.send(302, b"", {
                "Location": self.cdn_prefix() + f"/cdn/{owner}/{name}/{file}",
                "X-Linked-Etag": f'"{sha}"', "ETag": f'"{sha}"',
                "X-Linked-Size": str(len(data)), "X-Repo-Commit": self.opts.commit})
        blob = hashlib.sha1(b"blob %d\0" % len(data) + data).hexdigest()
        self.send(200, data, {"ETag": f'"{blob}"', "X-Repo-Commit": self.opts.commit},
                  "application/octet-stream")

    def cdn_prefix(self):
        if not self.opts.cdn_host:
            return ""
        return f"http://{self.opts.cdn_host}:{self.server.server_address[1]}"

    def cdn(self, owner, name, file):
        d = self.repo_dir(owner, name)
        path = os.path.join(d or "/nonexistent", file)
        if d is None or ".." in file.split("/") or not os.path.isfile(path):
            return self.error(404, "NoSuchKey")
        data = bytearray(open(path, "rb").read())
        if file in self.opts.corrupt:
            data[len(data) // 2] ^= 0xFF
        start = 0
        rng = self.headers.get("Range")
        if rng and not self.opts.no_range and rng.startswith("bytes=") and rng.endswith("-"):
            start = int(rng[6:-1])
            if start >= len(data):
                return self.send(416, b"", {"Content-Range": f"bytes */{len(data)}"})
        body = bytes(data[start:])
        with self.lock:
            drop = file in self.opts.drop_once and file not in Hub.dropped
            if drop:
                Hub.dropped.add(file)
        code = 206 if start else 200
        self.send_response(code)
        self.send_header("Content-Type", "application/octet-stream")
        self.send_header("Content-Length", str(len(body)))
        self.send_header("ETag", '"cdn-etag-is-not-a-sha256"')
        if start:
            self.send_header("Content-Range", f"bytes {start}-{len(data) - 1}/{len(data)}")
        self.end_headers()
        if drop:
            self.wfile.write(body[: len(body) // 2])
            self.wfile.flush()
            self.close_connection = True
            self.connection.shutdown(2)
            return
        self.wfile.write(body)


class Server(ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request, client_address):
        pass  # clients that hang up (the tests make some) are not news


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--root", required=True)
    ap.add_argument("--port-file", required=True)
    ap.add_argument("--log", required=True)
    ap.add_argument("--gated", action="append", default=[])
    ap.add_argument("--drop-once", action="append", default=[])
    ap.add_argument("--corrupt", action="append", default=[])
    ap.add_argument("--evil", action="append", default=[])
    ap.add_argument("--fail-api", type=int, default=0)
    ap.add_argument("--commit", default="0123456789abcdef0123456789abcdef01234567")
    ap.add_argument("--cdn-host", default="")
    ap.add_argument("--no-range", action="store_true")
    Hub.opts = ap.parse_args()
    server = Server(("127.0.0.1", 0), Hub)
    with open(Hub.opts.port_file + ".tmp", "w") as f:
        f.write(str(server.server_address[1]))
    os.rename(Hub.opts.port_file + ".tmp", Hub.opts.port_file)
    server.serve_forever()


if __name__ == "__main__":
    main()
