# Clients for scripts/serve_stress.sh: THREADS threads each make ITERATIONS
# requests (completions or chat, streamed or not, short or ~2k-token prompts)
# and mostly leave early: during the upload, or after a random moment (prompt,
# generation, queue), closing with FIN or RST. Prints counts by outcome.
#   python3 serve_stress.py PORT ITERATIONS THREADS [SEED]
import json, random, socket, struct, sys, threading, time
port = int(sys.argv[1]); n_iter = int(sys.argv[2]); n_thr = int(sys.argv[3])
seed = int(sys.argv[4]) if len(sys.argv) > 4 else 1
stats = {"ok": 0, "503": 0, "other": 0, "cut": 0, "err": 0}
lock = threading.Lock()
def body(rng):
    stream = rng.random() < 0.5
    long_prompt = rng.random() < 0.5
    p = ("w%d " % rng.randrange(10**6)) + ("Once upon a time there was a little girl named Lily." * (rng.randrange(60, 140) if long_prompt else 1))
    if rng.random() < 0.5:
        d = {"prompt": p, "max_tokens": rng.randrange(1, 200), "logit_bias": {"2": -100}, "stream": stream}
        if rng.random() < 0.3: d["n"] = rng.randrange(1, 4)
        if rng.random() < 0.3: d["logprobs"] = 2
        path = "/v1/completions"
    else:
        d = {"messages": [{"role": "user", "content": p}], "max_tokens": rng.randrange(1, 200), "stream": stream}
        if stream and rng.random() < 0.5: d["stream_options"] = {"include_usage": True}
        path = "/v1/chat/completions"
    b = json.dumps(d).encode()
    return b"POST %s HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n" % (path.encode(), len(b)) + b
def one(rng):
    req = body(rng)
    s = socket.create_connection(("127.0.0.1", port), timeout=30)
    if rng.random() < 0.4:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))  # close sends RST
    mode = rng.random()
    try:
        if mode < 0.15:  # leave during the upload
            s.sendall(req[: rng.randrange(1, len(req))])
            time.sleep(rng.random() * 0.05)
            return "cut"
        s.sendall(req)
        if mode < 0.75:  # leave after a random moment (prefill, generation, or while waiting)
            t_end = time.time() + rng.random() * 0.6
            s.settimeout(0.02)
            while time.time() < t_end:
                try:
                    if not s.recv(4096): break
                except socket.timeout:
                    pass
            return "cut"
        s.settimeout(60)
        data = b""
        while True:
            c = s.recv(65536)
            if not c: break
            data += c
            if b"\r\n0\r\n\r\n" in data or (b"Content-Length" in data and data.count(b"\r\n\r\n") and len(data.split(b"\r\n\r\n", 1)[1]) >= int(data.split(b"Content-Length: ")[1].split(b"\r\n")[0])):
                break
        st = data[9:12]
        if st not in (b"200", b"503"): print("status", st, data.split(b"\r\n\r\n",1)[-1][:160], file=sys.stderr)
        return "ok" if st == b"200" else "503" if st == b"503" else "other"
    finally:
        s.close()
def run(k):
    rng = random.Random(seed * 1000 + k)
    for _ in range(n_iter):
        try:
            r = one(rng)
        except Exception as e:
            r = "err"
            print("client error:", repr(e), file=sys.stderr)
        with lock: stats[r] += 1
ts = [threading.Thread(target=run, args=(k,)) for k in range(n_thr)]
[t.start() for t in ts]; [t.join() for t in ts]
print(stats)
