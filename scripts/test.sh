#!/usr/bin/env bash
# carecall's whole test command (the README's, and CI's through .ci/run).
# Installs what the tests need on a fresh Debian machine, then runs formatting, lints and
# every test: unit tests, whole calls against SIPp, both store backends.
set -euo pipefail
cd "$(dirname "$0")/.."

need_apt=()
command -v sipp >/dev/null 2>&1 || need_apt+=(sip-tester)
command -v python3 >/dev/null 2>&1 || need_apt+=(python3)
# tests/kamailio.rs runs Debian's Kamailio (dispatcher module) in front of several nodes.
command -v kamailio >/dev/null 2>&1 || need_apt+=(kamailio)
# The browser tests (tests/browser.rs) drive Debian's Chromium; Japanese pages need CJK fonts.
[ -x /usr/bin/chromium ] || need_apt+=(chromium)
dpkg -s fonts-noto-cjk >/dev/null 2>&1 || need_apt+=(fonts-noto-cjk)
if [ ${#need_apt[@]} -gt 0 ]; then
  echo "installing: ${need_apt[*]}"
  if [ "$(id -u)" -ne 0 ]; then SUDO=sudo; else SUDO=; fi
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${need_apt[@]}"
fi

# The API test validates the served OpenAPI document with openapi-spec-validator (PyPI).
if ! python3 -c 'import openapi_spec_validator' >/dev/null 2>&1; then
  echo "installing: openapi-spec-validator (pip)"
  python3 -m pip install --quiet openapi-spec-validator 2>/dev/null \
    || python3 -m pip install --quiet --break-system-packages openapi-spec-validator
fi

# playwright-core for the browser tests, at the version pinned in tests/browser/package-lock.json.
if [ ! -d tests/browser/node_modules ]; then
  echo "installing: tests/browser (npm ci)"
  npm ci --prefix tests/browser --no-audit --no-fund
fi

# PostgreSQL for the store tests: the one at CARECALL_TEST_PG if it answers, else a private
# server from Debian's postgresql package in a temporary directory, stopped on exit.
export CARECALL_TEST_PG="${CARECALL_TEST_PG:-postgres://postgres@127.0.0.1:5432/test}"
pg_answers() {
  command -v psql >/dev/null 2>&1 && psql "$CARECALL_TEST_PG" -qAtc 'select 1' >/dev/null 2>&1
}
if ! pg_answers; then
  if ! ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1; then
    echo "installing: postgresql"
    if [ "$(id -u)" -ne 0 ]; then SUDO=sudo; else SUDO=; fi
    $SUDO apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends postgresql
  fi
  bin=$(dirname "$(ls -d /usr/lib/postgresql/*/bin/initdb | sort -V | tail -n 1)")
  pgdir=$(mktemp -d /tmp/carecall-pg.XXXXXX)
  pgport=54329
  run_pg() { if [ "$(id -u)" -eq 0 ]; then chown -R postgres "$pgdir"; runuser -u postgres -- "$@"; else "$@"; fi; }
  run_pg "$bin/initdb" -D "$pgdir/data" -U postgres --auth=trust >/dev/null
  run_pg "$bin/pg_ctl" -D "$pgdir/data" -l "$pgdir/log" -w \
    -o "-p $pgport -k $pgdir -c listen_addresses=127.0.0.1 -c max_connections=200" start >/dev/null
  trap 'run_pg "$bin/pg_ctl" -D "$pgdir/data" -m fast stop >/dev/null 2>&1; rm -rf "$pgdir"' EXIT
  export CARECALL_TEST_PG="postgres://postgres@127.0.0.1:$pgport/postgres"
  echo "started a private PostgreSQL at $CARECALL_TEST_PG"
fi

cargo fmt --all -- --check
cargo clippy --locked --all-targets -- -D warnings
cargo test --locked --all-targets --no-run

# The fuzz crate (fuzz/, cargo-fuzz) is built before the test lanes, not beside them: a cold
# build writes gigabytes, and under that disk load SQLite's and PostgreSQL's commits (synced)
# took longer than the tests' store write timeouts, so calls journalled answers or could not
# identify a caller in time. Its short run comes after the lanes (below).
command -v cargo-fuzz >/dev/null 2>&1 || cargo install cargo-fuzz --locked
mkdir -p fuzz/target
if ! (cd fuzz && RUSTC_BOOTSTRAP=1 cargo fuzz build --dev --sanitizer none) >fuzz/target/build.log 2>&1; then
  tail -n 40 fuzz/target/build.log
  echo "the fuzz crate did not build (fuzz/target/build.log)" >&2
  exit 1
fi

./scripts/test-lanes.sh

# A short run of every fuzz target (fuzz/), so that a parser regression fails the test command.
# cargo-fuzz needs nightly flags: RUSTC_BOOTSTRAP=1 lets the stable toolchain take them.
# Built --dev (unoptimised, debug assertions on) and without a sanitizer: a panic is still a
# crash to libFuzzer, and the cold build stays within the few minutes this step may add; the
# -O builds are for the long runs (fuzz/long-run.sh). Figures in docs/reliability.md.
fuzz_seconds="${CARECALL_FUZZ_SECONDS:-3}"
(
  cd fuzz
  export RUSTC_BOOTSTRAP=1
  fuzz_tmp=target/smoke  # new inputs and logs of this run; fuzz/target is ignored by git
  rm -rf "$fuzz_tmp"
  for t in $(cargo fuzz list); do
    mkdir -p "$fuzz_tmp/$t"
    if ! cargo fuzz run --dev --sanitizer none "$t" "$fuzz_tmp/$t" "corpus/$t" -- \
      -max_total_time="$fuzz_seconds" -print_final_stats=1 >"$fuzz_tmp/$t.log" 2>&1; then
      grep -E -A3 'panicked at|ERROR: libFuzzer|Test unit written' "$fuzz_tmp/$t.log" ||
        tail -n 40 "$fuzz_tmp/$t.log"
      echo "fuzz target $t failed (the crashing input is under fuzz/artifacts/$t/)" >&2
      exit 1
    fi
    echo "fuzz $t: $(sed -n 's/^stat::number_of_executed_units: *//p' "$fuzz_tmp/$t.log") inputs, no crash"
  done
)
