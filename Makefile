# sealkit developer entry points. `make test` is what CI runs (.ci/run).
GO        ?= go
GOBIN     := $(shell $(GO) env GOPATH)/bin
STATICCHECK_VERSION ?= v0.8.2
FUZZTIME  ?= 30s
TESTFLAGS ?= -race -timeout 40m

# System packages the tests drive for real: headless Chromium for the browser
# tests, Erlang (with :crypto) to check Go's ETF and tokens, and Node.js with
# npm for the hooks test that installs and bundles the real Phoenix LiveView
# client (Debian 12's nodejs is 18; the test needs 18 or later).
APT_PKGS  := chromium erlang-base erlang-crypto nodejs npm

.PHONY: test deps fmt-check vet staticcheck gotest bench-check bench fuzz launcher

test: deps fmt-check vet staticcheck gotest bench-check

deps:
	@missing=""; \
	command -v chromium >/dev/null 2>&1 || missing="$$missing chromium"; \
	command -v erl >/dev/null 2>&1 && erl -noshell -eval 'ok = application:start(crypto), halt().' >/dev/null 2>&1 || missing="$$missing erlang-base erlang-crypto"; \
	command -v node >/dev/null 2>&1 || missing="$$missing nodejs"; \
	command -v npm >/dev/null 2>&1 || missing="$$missing npm"; \
	if [ -n "$$missing" ]; then \
		echo "installing:$$missing"; \
		SUDO=""; [ "$$(id -u)" = 0 ] || SUDO=sudo; \
		$$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq $$missing >/dev/null; \
	fi
	@command -v $(GOBIN)/staticcheck >/dev/null 2>&1 || $(GO) install honnef.co/go/tools/cmd/staticcheck@$(STATICCHECK_VERSION)

fmt-check:
	@out=$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go')); \
	if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi

vet:
	$(GO) vet ./...
	cd bench && $(GO) vet ./...

staticcheck:
	$(GOBIN)/staticcheck ./...
	cd bench && $(GOBIN)/staticcheck ./...

# SEALKIT_REQUIRE_TOOLS makes the browser, Node and Erlang tests fail, not skip,
# when chromium, node, npm or erl is missing: `make test` installs them, so none
# may be skipped. The hooks LiveView test runs npm ci against the npm registry.
gotest:
	SEALKIT_REQUIRE_TOOLS=1 $(GO) test $(TESTFLAGS) ./...

# Runs every peer benchmark once so the bench module cannot rot unnoticed.
bench-check:
	cd bench && $(GO) test -run '^$$' -bench . -benchtime 1x ./...

bench:
	cd bench && $(GO) test -run '^$$' -bench . -benchmem -count 5 ./... | tee bench.out

# Runs each native fuzz target for FUZZTIME.
fuzz:
	@set -e; for pkg in $$($(GO) list ./...); do \
		for f in $$($(GO) test -list '^Fuzz' $$pkg | grep '^Fuzz' || true); do \
			echo "== $$pkg $$f"; $(GO) test -run '^$$' -fuzz "^$$f$$" -fuzztime $(FUZZTIME) $$pkg; \
		done; \
	done

launcher:
	$(GO) run ./example/launcher
