# rootaudit — see README.md. `make demo` and `make test` are the contract.
GO        ?= go
BIN       := bin/rootaudit
VERSION   := $(shell git describe --always --dirty 2>/dev/null || echo dev)
LDFLAGS   := -X main.version=$(VERSION)
DEMO      := demo
# A count, not a duration: Go 1.26's fuzz coordinator can fail a target with
# "context deadline exceeded" when a duration budget expires under load
# (go.dev/issue/75804, fixed in Go 1.27); a count has no deadline to race.
FUZZTIME  ?= 20000x
# Minimising each new corpus entry is capped by count as well (default: 60 s
# each), so a target with large inputs cannot spend a minute per entry.
FUZZMIN   ?= 1000x
FUZZFLAGS  = -run '^$$' -fuzztime $(FUZZTIME) -fuzzminimizetime $(FUZZMIN)
VERSITYGW := github.com/versity/versitygw/cmd/versitygw@v1.8.0
# libdeflate inflates a whole log file in one call about twice as fast as
# Go's streaming decoders (docs/performance.md). It is built in when its
# header is installed (Debian: libdeflate-dev; `make ci-deps` installs it);
# without it rootaudit uses klauspost/compress alone. TAGS= turns it off.
CC        ?= cc
TAGS      ?= $(shell printf '\043include <libdeflate.h>\n' | $(CC) -E - >/dev/null 2>&1 && echo libdeflate)
GOFLAGS_TAGS := $(if $(TAGS),-tags $(TAGS))

.PHONY: build demo test unit fuzz vet ci-deps bench clean

build:
	$(GO) build $(GOFLAGS_TAGS) -ldflags "$(LDFLAGS)" -o $(BIN) ./cmd/rootaudit

# Generates a 12-month sample organization trail (deterministic, seed 1),
# ingests it and prints the inventory, sessions and credential status.
demo: build
	@test -f $(DEMO)/trail/truth.json || $(GO) run ./fixtures/gentrail -out $(DEMO)/trail -seed 1 -size 20MB -start 2025-11-01 -end 2026-11-01
	./$(BIN) ingest --db $(DEMO)/rootaudit.duckdb --since 2025-11-01 --until 2026-11-01 $(DEMO)/trail
	./$(BIN) inventory --db $(DEMO)/rootaudit.duckdb --since 2025-11-01 --until 2026-11-01 --accounts $(DEMO)/trail/accounts.json
	./$(BIN) sessions --db $(DEMO)/rootaudit.duckdb --since 2025-11-01 --until 2026-11-01 --accounts $(DEMO)/trail/accounts.json --approvers $(DEMO)/trail/approvers.txt
	./$(BIN) status --db $(DEMO)/rootaudit.duckdb --until 2026-11-01 --accounts $(DEMO)/trail/accounts.json

vet:
	@test -z "$$(gofmt -l $$(git ls-files '*.go'))" || (echo "gofmt needed:"; gofmt -l $$(git ls-files '*.go'); exit 1)
	$(GO) vet ./...
	$(if $(TAGS),$(GO) vet $(GOFLAGS_TAGS) ./...)

unit:
	$(GO) test $(GOFLAGS_TAGS) -count=1 -timeout 15m ./...

# Each fuzz target runs FUZZTIME (executions, or a duration such as 1m for
# longer local sessions); crashers land in testdata/fuzz and
# become regression cases of `go test`.
fuzz:
	$(if $(TAGS),$(GO) test $(GOFLAGS_TAGS) $(FUZZFLAGS) -fuzz '^FuzzWholeGunzip$$' ./ingest)
	$(GO) test $(FUZZFLAGS) -fuzz '^FuzzWalker$$' ./ingest
	$(GO) test $(FUZZFLAGS) -fuzz '^FuzzWalkerAcceptsValid$$' ./ingest
	$(GO) test $(FUZZFLAGS) -fuzz '^FuzzParseDigest$$' ./ingest
	$(GO) test $(FUZZFLAGS) -fuzz '^FuzzParseKey$$' ./ingest
	$(GO) test $(FUZZFLAGS) -fuzz '^FuzzCandidateNeverMisses$$' ./ingest
	$(GO) test $(FUZZFLAGS) -fuzz '^FuzzLookupEvent$$' ./ingest
	$(GO) test $(FUZZFLAGS) -fuzz '^FuzzAthenaRecord$$' ./ingest
	$(GO) test $(FUZZFLAGS) -fuzz '^FuzzParseAthenaURL$$' ./ingest
	$(GO) test $(FUZZFLAGS) -fuzz '^FuzzSplitStatements$$' ./query

# The whole suite: formatting, vet, unit and integration tests, short fuzzing.
test: vet unit fuzz

# The performance table of docs/performance.md: a generated trail (cached
# under .cache/bench), the decompression floor T, rootaudit ingest local,
# --validate, S3 through loopback versitygw, DuckDB read_json and jq, medians
# of BENCH_RUNS runs with peak RSS; then the report commands on 1e6 events.
BENCH_SIZE ?= 1200MB
BENCH_BIG  ?=
BENCH_RUNS ?= 3
bench: build
	@command -v versitygw >/dev/null 2>&1 || $(GO) install $(VERSITYGW)
	$(GO) run $(GOFLAGS_TAGS) ./internal/benchrun -size $(BENCH_SIZE) -runs $(BENCH_RUNS) $(if $(BENCH_BIG),-big $(BENCH_BIG)) -rootaudit $(BIN)
	$(GO) test $(GOFLAGS_TAGS) -run '^$$' -bench . -benchtime 5x ./ingest

# Tools the tests need that Go modules do not bring: a real S3 server
# (versitygw, through the Go module proxy), headless Chromium for the
# evidence-pack browser test and libdeflate's header (Debian's packages;
# need root, as CI is).
ci-deps:
	@test -f /usr/include/libdeflate.h || (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq libdeflate-dev >/dev/null)
	@command -v versitygw >/dev/null 2>&1 || test -x "$$($(GO) env GOPATH)/bin/versitygw" || $(GO) install $(VERSITYGW)
	@command -v chromium >/dev/null 2>&1 || (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null)

clean:
	rm -rf bin $(DEMO)
