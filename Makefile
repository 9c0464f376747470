# The README's test command is `make test`; .ci/run calls it.

GO ?= go
FUZZTIME ?= 30s

.PHONY: test vet unit race fuzz bench build

test: vet unit race

build:
	$(GO) build ./...

vet:
	$(GO) vet ./...
	@test -z "$$(gofmt -l .)" || { echo "gofmt needed:"; gofmt -l .; exit 1; }

# Every test, fuzz seed corpora included, against real nodes and processes.
unit:
	$(GO) test -count=1 -timeout 20m ./...

# The concurrent packages under the race detector.
race:
	$(GO) test -count=1 -race -timeout 20m ./app ./state ./tracker ./api ./client ./node ./vault ./audit/... ./sender

# Each fuzz target of every package for FUZZTIME: found with go test -list,
# so that a new package's targets need no line here.
fuzz:
	for pkg in $$($(GO) list ./...); do \
		for f in $$($(GO) test -list '^Fuzz' $$pkg | grep '^Fuzz'); do \
			$(GO) test -run=^$$ -fuzz=^$$f$$ -fuzztime=$(FUZZTIME) $$pkg || exit 1; \
		done; \
	done

bench:
	$(GO) run ./cmd/careledger bench
	$(GO) test -run=^$$ -bench=. -benchtime=20x ./bench ./state
