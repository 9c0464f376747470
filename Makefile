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
	$(GO) test -count=1 -race -timeout 20m ./app ./state ./tracker ./api ./client ./node ./vault ./audit/...

# Each fuzz target for FUZZTIME.
fuzz:
	$(GO) test -run=^$$ -fuzz=FuzzDecode -fuzztime=$(FUZZTIME) ./tx
	$(GO) test -run=^$$ -fuzz=FuzzReader -fuzztime=$(FUZZTIME) ./wire
	$(GO) test -run=^$$ -fuzz=FuzzReadKeyFile -fuzztime=$(FUZZTIME) ./keys
	$(GO) test -run=^$$ -fuzz=FuzzOpenToken -fuzztime=$(FUZZTIME) ./api
	$(GO) test -run=^$$ -fuzz=FuzzDecode -fuzztime=$(FUZZTIME) ./contract/identity
	$(GO) test -run=^$$ -fuzz=FuzzDecodeBucket -fuzztime=$(FUZZTIME) ./state
	$(GO) test -run=^$$ -fuzz=FuzzDecode -fuzztime=$(FUZZTIME) ./contract/consent
	$(GO) test -run=^$$ -fuzz=FuzzDecode -fuzztime=$(FUZZTIME) ./contract/records
	$(GO) test -run=^$$ -fuzz=FuzzDecode -fuzztime=$(FUZZTIME) ./contract/governance
	$(GO) test -run=^$$ -fuzz=FuzzDecode -fuzztime=$(FUZZTIME) ./snapshot
	$(GO) test -run=^$$ -fuzz=FuzzReadSegment -fuzztime=$(FUZZTIME) ./tracker
	for f in FuzzDecodeRecordValue FuzzDecodeVersionValue FuzzDecodeLocator FuzzDecodePatientKey \
		FuzzDecodeMeta FuzzDecodeRecordKey FuzzDecodePendingKey FuzzDecodeSealed; do \
		$(GO) test -run=^$$ -fuzz=^$$f$$ -fuzztime=$(FUZZTIME) ./vault || exit 1; done
	$(GO) test -run=^$$ -fuzz=FuzzParse -fuzztime=$(FUZZTIME) ./fhir
	$(GO) test -run=^$$ -fuzz=FuzzBundleResolve -fuzztime=$(FUZZTIME) ./fhir
	$(GO) test -run=^$$ -fuzz=FuzzDecodeEvent -fuzztime=$(FUZZTIME) ./audit
	$(GO) test -run=^$$ -fuzz=FuzzBundle -fuzztime=$(FUZZTIME) ./audit

bench:
	$(GO) run ./cmd/careledger bench
	$(GO) test -run=^$$ -bench=. -benchtime=20x ./bench ./state
