# The two commands a newcomer needs:
#   make run    install what is missing, build, start the demo on http://127.0.0.1:3000
#               (calsync plus a Cal.com simulator and seeded data; see README)
#   make test   everything: unit, integration (SQLite + PostgreSQL), browser
.PHONY: run test setup build lint bench soak

run:
	scripts/setup
	scripts/build --release
	CALSYNC_SECRET_KEY="$$(scripts/secret-key)" CALSYNC_SITE_ROOT=target/site ./target/release/calsync demo

test:
	scripts/setup --test
	scripts/test

build:
	scripts/setup
	scripts/build --release

# The same `--cfg erase_components` as the builds and tests, so clippy checks
# the code they compile (and reuses their dependencies).
lint:
	cargo fmt --all -- --check
	RUSTFLAGS="--cfg erase_components" cargo clippy -p engine -p calcom-sim -p app -p server --all-targets -- -D warnings
	RUSTFLAGS="--cfg erase_components" cargo clippy -p server --features bench --bin bench -- -D warnings

# Measures calls, time, memory, page latency, render throughput (wrk) and
# the release WASM size, and writes docs/benchmarks.md (needs PostgreSQL on
# 127.0.0.1:5432 for its row).
# The same `--cfg erase_components` as `scripts/build`: the server measured is
# the one shipped, and the build reuses its compiled dependencies.
bench:
	scripts/setup --bench
	scripts/build --release
	RUSTFLAGS="--cfg erase_components" cargo run --release -p server --features bench --bin bench

# Minutes-long resilience run against the simulator's fault modes (5xx,
# timeouts, 429 storms, then recovery) on SQLite and PostgreSQL. Not in CI.
# Sizes: SOAK_APPOINTMENTS (default 2000), SOAK_ROUNDS (default 6).
soak:
	cargo test -p engine --test soak -- --ignored soak --nocapture
