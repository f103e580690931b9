# leash's build helpers. `go build ./...` needs only Go: the BPF objects are
# generated here and committed.

CLANG ?= clang-19
STRIP ?= llvm-strip-19

.PHONY: generate check-generate

# generate rebuilds bpf/leash_bpfel.{go,o} from bpf/leash.bpf.c.
generate:
	cd bpf && BPF2GO_CC=$(CLANG) BPF2GO_STRIP=$(STRIP) go generate ./...

# check-generate regenerates and fails if the committed output is stale.
check-generate: generate
	git diff --exit-code -- bpf/
	@test -z "$$(git status --porcelain -- bpf/ | grep '^??')" || { echo "untracked generated files in bpf/"; git status --porcelain -- bpf/; exit 1; }

.PHONY: deps build test demo bench

# deps installs the Debian packages the tests need (the same list CI uses).
deps:
	apt-get update -qq
	xargs -a .ci/packages apt-get install -y -qq --no-install-recommends
	xargs -a .ci/packages-e2e apt-get install -y -qq --no-install-recommends

build:
	CGO_ENABLED=0 go build -o leash ./cmd/leash

# test is the README's test command. Run it as root to include the
# privileged tests; set LEASH_REQUIRE_PRIVILEGED=1 to make them fail
# instead of skip where they cannot run (CI does).
test:
	go vet ./...
	go test -count=1 -timeout 45m ./...

# demo learns a real program's profile, shows it, and runs the program
# confined to it.
demo: build
	./scripts/demo

bench:
	./bench/run

.PHONY: bench-learn
# bench-learn measures what leash learn costs (as root): bench/learn/run.
bench-learn:
	./bench/learn/run
