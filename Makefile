# The two commands a newcomer needs:
#   make run    install what is missing, build, start calsync on http://127.0.0.1:3000
#   make test   everything: unit, integration (SQLite + PostgreSQL), browser
.PHONY: run test setup build lint

run:
	scripts/setup
	cargo leptos build --release
	CALSYNC_SECRET_KEY="$$(scripts/secret-key)" CALSYNC_SITE_ROOT=target/site ./target/release/calsync serve

test:
	scripts/setup --test
	scripts/test

build:
	scripts/setup
	cargo leptos build --release

lint:
	cargo fmt --all -- --check
	cargo clippy -p engine -p app -p server --all-targets -- -D warnings
