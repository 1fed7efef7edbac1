# One command per job, the same on a laptop and in CI. See the README.
.PHONY: run test dev bindings bench lint

run:    ## Install what is missing, build, and start the desktop app (local mode)
	@scripts/run.sh

test:   ## Install what is missing and run every check and test
	@scripts/test.sh

dev:    ## The desktop app against the Vite dev server (hot reload)
	@(cd ui && npm run dev) & cargo run --no-default-features -p salesdesk-desktop; kill %1

bindings: ## Regenerate ui/src/lib/bindings.ts from the Rust types
	@UPDATE_BINDINGS=1 cargo test --locked -p salesdesk-desktop --test bindings

lint:   ## Formatting and lints only
	@cargo fmt --all --check && cargo clippy --workspace --all-targets --locked -- -D warnings
	@cd ui && npm run --silent check && npm run --silent lint

bench:  ## Benchmarks (release builds; print figures)
	@cargo bench --locked --workspace
