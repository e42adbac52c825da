# dropsync — common tasks. `make test` is the test command the README and CI use.

GO ?= go
PKG := ./...

.PHONY: test test-race build demo vet fmt bench docker clean

## test: start (or find) a test Redis, then run every test
test:
	@.ci/ensure-redis
	$(GO) test -count=1 -timeout 9m $(PKG)

## test-race: the tests with the race detector (slower)
test-race:
	@.ci/ensure-redis
	$(GO) test -race -count=1 -timeout 20m $(PKG)

## build: the dropsync binary in ./bin
build:
	CGO_ENABLED=0 $(GO) build -trimpath -o bin/dropsync ./cmd/dropsync

## demo: a simulated store through the real pipeline (embedded Redis)
demo:
	$(GO) run ./cmd/dropsync demo

vet:
	$(GO) vet $(PKG)

fmt:
	gofmt -w $$(git ls-files '*.go')

## bench: the micro-benchmarks and the end-to-end bench command
bench:
	@.ci/ensure-redis
	$(GO) test -run '^$$' -bench . -benchmem $(PKG)
	$(GO) run ./cmd/dropsync bench

docker:
	docker build -t dropsync:dev .

clean:
	rm -rf bin
