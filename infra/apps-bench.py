#!/usr/bin/env python3
"""Container apps against raw Docker, same image, same machine, same run. Prints Markdown tables.

  1. Deploy to first 200: `cloudctl app create --public-port` of one replica, then GET on the
     balancer until it answers 200 — against `docker run -p` of the same image, then GET on the
     published port. Goal: within 1.2x (Nuvem's own work under 20 % of it).
  2. Balancer throughput and p50/p99 latency with 2 replicas behind HAProxy, against one
     container reached directly on its private address; the same client (keep-alive-less HTTP/1.0
     from CLIENTS threads), the same duration. Goal: at least 0.8x.
  3. Container against VM start for the same workload (a shell answering on a port): the
     deploy-to-first-200 above against `cloudctl instance launch --wait` of nuvem-tiny (only when
     --vm is given and libvirt runs).

Run as root with a server started on dockerd (the README's infra/up.sh), cloudctl signed in:

  python3 infra/apps-bench.py --profile admin [--rounds 5] [--seconds 10] [--vm]

The app image is the one of e2e/tests/apps_support (python3's http.server on nuvem/debian:12),
built once as bench-web:latest. Everything made is deleted at the end.
"""
import argparse, json, os, shutil, socket, statistics, subprocess, tempfile, threading, time

SERVER = r'''import http.server, socket
class H(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.0"
    def do_GET(self):
        body = ("ok %s\n" % socket.gethostname()).encode()
        self.send_response(200); self.send_header("Content-Length", str(len(body)))
        self.end_headers(); self.wfile.write(body)
    def log_message(self, *a): pass
http.server.ThreadingHTTPServer(("", 8080), H).serve_forever()
'''

def cloudctl(profile, *args, check=True):
    out = subprocess.run(["cloudctl", "--profile", profile, "-o", "json", *args],
                         capture_output=True, text=True)
    if check and out.returncode != 0:
        raise SystemExit(f"cloudctl {' '.join(args)}: {out.stderr}")
    return json.loads(out.stdout) if out.stdout.strip() else None

def get(host, port, path="/", timeout=2.0):
    s = socket.create_connection((host, port), timeout=timeout)
    try:
        s.sendall(f"GET {path} HTTP/1.0\r\nHost: {host}\r\n\r\n".encode())
        data = b""
        while True:
            chunk = s.recv(4096)
            if not chunk:
                break
            data += chunk
        return int(data.split()[1])
    finally:
        s.close()

def until_200(host, port, limit=120.0):
    start = time.perf_counter()
    while time.perf_counter() - start < limit:
        try:
            if get(host, port, timeout=0.5) == 200:
                return
        except (OSError, ValueError, IndexError):
            pass
        time.sleep(0.02)
    raise SystemExit(f"{host}:{port} never answered 200")

def load(host, port, seconds, clients):
    """Requests from `clients` threads for `seconds`: (requests/s, p50 ms, p99 ms, failures)."""
    latencies, failures, lock = [], [0], threading.Lock()
    deadline = time.perf_counter() + seconds
    def worker():
        mine, failed = [], 0
        while time.perf_counter() < deadline:
            t = time.perf_counter()
            try:
                ok = get(host, port) == 200
            except (OSError, ValueError, IndexError):
                ok = False
            if ok:
                mine.append(time.perf_counter() - t)
            else:
                failed += 1
        with lock:
            latencies.extend(mine); failures[0] += failed
    threads = [threading.Thread(target=worker) for _ in range(clients)]
    for t in threads: t.start()
    for t in threads: t.join()
    s = sorted(latencies)
    return (len(s) / seconds, statistics.median(s) * 1000,
            s[min(len(s) - 1, int(len(s) * 0.99))] * 1000, failures[0])

def main():
    a = argparse.ArgumentParser()
    a.add_argument("--profile", default="admin")
    a.add_argument("--rounds", type=int, default=5)
    a.add_argument("--seconds", type=float, default=10.0)
    a.add_argument("--clients", type=int, default=8)
    a.add_argument("--port", type=int, default=30990, help="the balancer's host port")
    a.add_argument("--vm", action="store_true")
    args = a.parse_args()
    p = args.profile

    ctx = tempfile.mkdtemp()
    with open(os.path.join(ctx, "Dockerfile"), "w") as f:
        f.write('FROM nuvem/debian:12\nCOPY server.py /srv/server.py\n'
                'CMD ["python3", "-u", "/srv/server.py"]\n')
    with open(os.path.join(ctx, "server.py"), "w") as f:
        f.write(SERVER)
    subprocess.run(["cloudctl", "--profile", p, "app", "image", "build", ctx,
                    "--name", "bench-web"], check=True, capture_output=True)
    shutil.rmtree(ctx)
    engine_ref = None
    for image in cloudctl(p, "app", "image", "list"):
        if image["reference"] == "bench-web:latest":
            engine_ref = f"nuvem-{image['account_id']}/bench-web:latest"

    # 1. Deploy to first 200.
    nuvem, docker = [], []
    for i in range(args.rounds):
        t = time.perf_counter()
        app = cloudctl(p, "app", "create", "bench", "--image", "bench-web:latest", "--port",
                       "8080", "--public-port", str(args.port))
        host, port = app["url"].removeprefix("http://").rsplit(":", 1)
        until_200(host, int(port))
        nuvem.append(time.perf_counter() - t)
        cloudctl(p, "app", "delete", "bench")
        name = f"bench-raw-{os.getpid()}-{i}"
        t = time.perf_counter()
        subprocess.run(["docker", "run", "-d", "--rm", "--init", "--name", name, "-p",
                        f"127.0.0.1:{args.port + 1}:8080", engine_ref], check=True,
                       capture_output=True)
        until_200("127.0.0.1", args.port + 1)
        docker.append(time.perf_counter() - t)
        subprocess.run(["docker", "rm", "-f", name], capture_output=True)
    n50, d50 = statistics.median(nuvem), statistics.median(docker)
    print(f"\n## Deploy to first 200 (one replica, {args.rounds} rounds, seconds)\n")
    print("| | p50 | min | max |\n|---|---|---|---|")
    print(f"| Nuvem app create (interface, security group, container, HAProxy) | {n50:.3f} | {min(nuvem):.3f} | {max(nuvem):.3f} |")
    print(f"| raw docker run -p | {d50:.3f} | {min(docker):.3f} | {max(docker):.3f} |")
    print(f"\nratio Nuvem / docker run: **{n50 / d50:.2f}x** (goal <= 1.2x)")

    # 2. Balancer against one container directly.
    app = cloudctl(p, "app", "create", "bench", "--image", "bench-web:latest", "--port", "8080",
                   "--replicas", "2", "--public-port", str(args.port), "--health-path", "/",
                   "--wait")
    host, port = app["url"].removeprefix("http://").rsplit(":", 1)
    direct_ip = app["replicas"][0]["private_ip"]
    direct = load(direct_ip, 8080, args.seconds, args.clients)
    balanced = load(host, int(port), args.seconds, args.clients)
    cloudctl(p, "app", "delete", "bench")
    print(f"\n## Balancer throughput ({args.clients} clients, {args.seconds:.0f} s each, HTTP/1.0)\n")
    print("| | requests/s | p50 ms | p99 ms | failed |\n|---|---|---|---|---|")
    print(f"| one container, directly | {direct[0]:.0f} | {direct[1]:.2f} | {direct[2]:.2f} | {direct[3]} |")
    print(f"| HAProxy, 2 replicas | {balanced[0]:.0f} | {balanced[1]:.2f} | {balanced[2]:.2f} | {balanced[3]} |")
    print(f"\nratio balancer / direct: **{balanced[0] / direct[0]:.2f}x** throughput (goal >= 0.8x), "
          f"p99 {balanced[2] / direct[2]:.2f}x")

    # 3. Container against VM.
    if args.vm:
        t = time.perf_counter()
        vm = cloudctl(p, "instance", "launch", "--image", "nuvem-tiny", "--name", "bench-vm",
                      "--wait")
        vm_s = time.perf_counter() - t
        cloudctl(p, "instance", "terminate", vm[0]["id"])
        print("\n## Container against VM start (to answering on its port)\n")
        print("| | seconds |\n|---|---|")
        print(f"| container app (deploy to first 200, p50) | {n50:.3f} |")
        print(f"| nuvem-tiny VM (launch --wait: SSH answers) | {vm_s:.3f} |")
        print(f"\nratio VM / container: **{vm_s / n50:.1f}x**")
    cloudctl(p, "app", "image", "delete", "bench-web:latest", check=False)

if __name__ == "__main__":
    main()
