#!/bin/sh
# The compose must-show of issue 18 as a user would script it: bento compose up -d, then every
# command from a new process. Run by compose-detached.test.ts with BENTO (the bento command)
# and IMAGE (a busybox image in the store) set, in an empty directory; prints "id <id>" for each
# container (the test's leak check) and "ok" at the end. Any failed step exits non-zero with what
# went wrong on stderr.
set -eu

fail() {
  echo "compose-detached.sh: $*" >&2
  exit 1
}

# db serves a page and is healthy once it answers; web waits for that, then reaches db by name.
cat >compose.yaml <<YAML
name: clidetached
services:
  db:
    image: $IMAGE
    init: true
    command: ["sh", "-c", "mkdir -p /www && echo hello-from-db > /www/index.html && echo db is up && exec httpd -f -p 8080 -h /www"]
    healthcheck:
      test: ["CMD", "wget", "-q", "-O", "/dev/null", "http://127.0.0.1:8080/"]
      interval: 200ms
      retries: 50
    ports: ["8080"]
  web:
    image: $IMAGE
    init: true
    command: ["sh", "-c", "echo web is up; exec sleep 1000"]
    depends_on:
      db:
        condition: service_healthy
    volumes: ["cache:/cache"]
volumes:
  cache: {}
YAML

# up -d returns once both services are up: web started only after db was healthy.
$BENTO compose up -d 2>up.err || fail "compose up -d failed: $(cat up.err)"
grep -q '^db: started$' up.err || fail "up -d did not report db started: $(cat up.err)"
grep -q '^web: started$' up.err || fail "up -d did not report web started: $(cat up.err)"
[ "$(grep -n 'started$' up.err | cut -d: -f2 | tr '\n' ' ')" = "db web " ] || fail "web started before db: $(cat up.err)"
for id in $($BENTO compose ps -q); do echo "id $id"; done

# ps, from a new process: both run, db's port is published.
$BENTO compose ps >ps.out
[ "$($BENTO compose ps --services | tr '\n' ' ')" = "db web " ] || fail "compose ps --services: $($BENTO compose ps --services)"
grep -q '^clidetached-db-1 *db *running *127.0.0.1:[0-9]*->8080/tcp$' ps.out || fail "compose ps: $(cat ps.out)"
grep -q '^clidetached-web-1 *web *running *$' ps.out || fail "compose ps: $(cat ps.out)"

# exec: web reaches db over the stack's network, which the background process holds.
[ "$($BENTO compose exec web wget -q -O - http://db:8080/index.html)" = hello-from-db ] || fail "exec: web did not reach db"
$BENTO compose exec db sh -c 'exit 3' && fail "exec: exit code 3 was not passed on" || [ $? -eq 3 ] || fail "exec: wrong exit code"
$BENTO compose exec -e GREETING=hi web sh -c 'echo $GREETING >/cache/note'
[ "$($BENTO compose exec web cat /cache/note)" = hi ] || fail "exec -e: the note is not there"

# The published port answers from the host.
port=$($BENTO inspect -f '{{(index (index .NetworkSettings.Ports "8080/tcp") 0).HostPort}}' clidetached-db-1)
body=$(node -e 'fetch(`http://127.0.0.1:${process.argv[1]}/index.html`).then((r) => r.text()).then((t) => process.stdout.write(t))' "$port")
[ "$body" = hello-from-db ] || fail "port $port answered \"$body\""

# logs: every service's lines, prefixed; one service; a follower that ends with down.
$BENTO compose logs >logs.out
grep -qx 'db  | db is up' logs.out || fail "compose logs: $(cat logs.out)"
grep -qx 'web | web is up' logs.out || fail "compose logs: $(cat logs.out)"
[ "$($BENTO compose logs web)" = "web | web is up" ] || fail "compose logs web: $($BENTO compose logs web)"
$BENTO compose logs -f web >follow.out &
follower=$!
# Once it printed the line so far, it follows (it found the container before down removes it).
while [ ! -s follow.out ]; do
  kill -0 "$follower" 2>/dev/null || fail "logs -f ended early: $(cat follow.out)"
  sleep 0.1
done

# down, from a new process: the background process takes the stack down; -v removes the volume.
$BENTO compose down -v >down.out 2>down.err || fail "compose down failed: $(cat down.err)"
grep -qx 'clidetached-db-1: removed' down.out || fail "down: $(cat down.out)"
grep -qx 'clidetached-web-1: removed' down.out || fail "down: $(cat down.out)"
grep -qx 'volume clidetached_cache: removed' down.out || fail "down -v: $(cat down.out)"
wait "$follower" || fail "logs -f failed"
[ "$(cat follow.out)" = "web | web is up" ] || fail "logs -f printed \"$(cat follow.out)\""
[ -z "$($BENTO compose ps -a -q)" ] || fail "compose ps -a still lists containers"
[ -z "$($BENTO ps -a -q)" ] || fail "ps -a still lists containers"
$BENTO volume ls -q | grep -q clidetached && fail "the volume is left"
echo ok
