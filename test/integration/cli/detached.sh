#!/bin/sh
# The must-show of issue 18 as a user would script it: a detached service, then every command
# from a new process. Run by detached.test.ts with BENTO (the bento command) and ROOTFS (a
# busybox root filesystem) set; prints "id <id>" and "owner <pid>" for its leak check, and
# "ok" at the end. Any failed step exits non-zero with what went wrong on stderr.
set -eu

fail() {
  echo "detached.sh: $*" >&2
  exit 1
}

# The service: busybox httpd on container port 5432, published on a port bento picks.
id=$($BENTO run -d --name db -p 5432 "$ROOTFS" sh -c 'mkdir -p /www && echo hello-from-db > /www/index.html && echo db is up && exec httpd -f -p 5432 -h /www')
echo "id $id"
# bento run -d returned: the process that started the container has ended.
owner=$($BENTO ps --json | node -e 'const [c] = JSON.parse(require("fs").readFileSync(0, "utf8")); process.stdout.write(String(c.ownerPid))')
echo "owner $owner"
if kill -0 "$owner" 2>/dev/null; then fail "the starter (pid $owner) is still running"; fi

[ "$($BENTO inspect -f '{{.State.Status}}' db)" = running ] || fail "inspect: db is not running"
[ "$($BENTO exec db cat /www/index.html)" = hello-from-db ] || fail "exec: wrong output"
$BENTO exec db sh -c 'exit 3' && fail "exec: exit code 3 was not passed on" || [ $? -eq 3 ] || fail "exec: wrong exit code"
$BENTO exec db no-such-command 2>/dev/null && fail "exec: a missing command succeeded" || [ $? -eq 127 ] || fail "exec: a missing command did not exit 127"

# The published port answers, served by the container's helper now that the starter is gone.
port=$($BENTO inspect -f '{{(index (index .NetworkSettings.Ports "5432/tcp") 0).HostPort}}' db)
body=$(node -e 'fetch(`http://127.0.0.1:${process.argv[1]}/index.html`).then((r) => r.text()).then((t) => process.stdout.write(t))' "$port")
[ "$body" = hello-from-db ] || fail "port $port answered \"$body\""

[ "$($BENTO logs db)" = "db is up" ] || fail "logs: wrong output"
$BENTO rm db 2>/dev/null && fail "rm removed a running container without -f"

# A follower started now ends by itself when the container does.
follow=$(mktemp)
trap 'rm -f "$follow"' EXIT
$BENTO logs -f db >"$follow" &
follower=$!
[ "$($BENTO stop db)" = db ] || fail "stop did not print the name"
wait "$follower" || fail "logs -f failed"
[ "$(cat "$follow")" = "db is up" ] || fail "logs -f printed \"$(cat "$follow")\""
[ "$($BENTO inspect -f '{{.State.Status}}' db)" = exited ] || fail "inspect: db did not exit"
[ "$($BENTO wait db)" = "$($BENTO inspect -f '{{.State.ExitCode}}' db)" ] || fail "wait and inspect disagree on the exit code"
[ "$($BENTO logs db)" = "db is up" ] || fail "logs after stop: wrong output"

[ "$($BENTO rm db)" = db ] || fail "rm did not print the name"
[ -z "$($BENTO ps -a -q)" ] || fail "ps -a still lists containers"
$BENTO inspect db >/dev/null 2>&1 && fail "inspect still finds db"
echo ok
