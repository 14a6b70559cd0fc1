# p2pnode: `make demo` runs a network, `make test` installs what the tests
# need and runs every suite. See README.md.
SHELL := /bin/bash
GO ?= go
PYTHON ?= python3
ROOT := $(CURDIR)
BUILD := $(ROOT)/build
RESULTS := $(BUILD)/results
LIB := $(BUILD)/libp2pnode.so
DLL := $(BUILD)/windows/libp2pnode.dll
PREFIX ?= /usr/local
BINDINGS := cpp csharp python
# The suites `make test` must report on; a suite that reports nothing fails.
SUITES := go-core $(if $(wildcard capi/test/Makefile),c-api) $(if $(wildcard examples/demo/Makefile),crosslang) \
	$(foreach b,$(BINDINGS),$(if $(wildcard bindings/$(b)/Makefile),$(b)))
SUITES += $(if $(wildcard bindings/python/tests/packaging),python-packaging)
GO_SRC := $(shell find p2p capi -name '*.go' -o -name '*.c' -o -name '*.h' 2>/dev/null) go.mod go.sum include/p2pnode.h
# go build caches cgo objects by the package's own files: a change of
# include/p2pnode.h (outside capi/) would go unseen. Its hash in CGO_CFLAGS
# makes it part of the cache key.
HEADER_HASH := $(shell sha256sum include/p2pnode.h 2>/dev/null | cut -c1-16)
CGO_ENV := CGO_ENABLED=1 CGO_CFLAGS="-O2 -g -DP2P_HEADER_HASH_$(HEADER_HASH)"
# Each binding's Makefile takes these and builds against build/ and include/.
SUB := ROOT=$(ROOT) LIB_DIR=$(BUILD) INCLUDE_DIR=$(ROOT)/include PYTHON=$(PYTHON)

.PHONY: all lib dll test-dll examples deps test test-go test-c test-bindings test-crosslang demo bench fuzz install clean

all: lib examples

lib: $(LIB)

$(LIB): $(GO_SRC)
	@mkdir -p $(BUILD)
	$(CGO_ENV) $(GO) build -buildmode=c-shared -ldflags "-extldflags -Wl,-soname,libp2pnode.so" -o $@ ./capi

# The Windows DLL, from the same sources, where a MinGW cross compiler is
# installed (Debian: gcc-mingw-w64-x86-64).
dll: $(DLL)

$(DLL): $(GO_SRC)
	@command -v x86_64-w64-mingw32-gcc >/dev/null || { echo "dll: needs x86_64-w64-mingw32-gcc (apt-get install gcc-mingw-w64-x86-64)"; exit 1; }
	@mkdir -p $(dir $@)
	GOOS=windows GOARCH=amd64 $(CGO_ENV) CC=x86_64-w64-mingw32-gcc $(GO) build -buildmode=c-shared -o $@ ./capi
	@# .NET's DllImport("p2pnode") looks for p2pnode.dll on Windows.
	cp $@ $(dir $@)p2pnode.dll

# Checks the DLL without Windows: its exports match the header, and a C
# program links against it with the MinGW toolchain.
test-dll: $(DLL)
	@x86_64-w64-mingw32-objdump -p $(DLL) | sed -n '/Ordinal\/Name Pointer/,/^$$/p' | grep -o 'p2p_[a-z_]*' | sort > $(BUILD)/windows/exports.txt
	@grep -oE '^(int |const char \*)p2p_[a-z_]+\(' include/p2pnode.h | grep -oE 'p2p_[a-z_]+' | sort > $(BUILD)/windows/header.txt
	@diff $(BUILD)/windows/header.txt $(BUILD)/windows/exports.txt && echo "dll: exports match the header ($$(wc -l < $(BUILD)/windows/exports.txt) functions)"
	x86_64-w64-mingw32-gcc -Wall -Werror -Iinclude -o $(BUILD)/windows/link_check.exe .ci/link_check.c $(DLL)
	@echo "dll: a C program links against $(notdir $(DLL))"

examples: lib
	$(GO) build -o $(BUILD)/examples/go/ ./examples/go/...
	@if [ -f examples/c/Makefile ]; then $(MAKE) -C examples/c $(SUB); fi
	@for b in $(BINDINGS); do if [ -f bindings/$$b/Makefile ]; then $(MAKE) -C bindings/$$b examples $(SUB) || exit 1; fi; done

deps:
	@bash .ci/deps.sh

# Every suite runs, even after one fails; the summary's last line is
# "N passed, N failed" over all of them, and its exit status is the verdict.
test: deps
	@rm -rf $(RESULTS); mkdir -p $(RESULTS)
	-@$(MAKE) --no-print-directory test-go
	-@$(MAKE) --no-print-directory lib
	-@$(MAKE) --no-print-directory test-c
	-@$(MAKE) --no-print-directory test-bindings
	-@$(MAKE) --no-print-directory test-crosslang
	-@$(MAKE) --no-print-directory test-python-packaging
	@bash .ci/summary.sh $(RESULTS) $(SUITES)

test-go:
	@mkdir -p $(RESULTS)
	@GO=$(GO) bash .ci/go-test.sh $(RESULTS)/go-core.txt

test-c: lib
	@mkdir -p $(RESULTS)
	@if [ -f capi/test/Makefile ]; then $(MAKE) --no-print-directory -C capi/test test $(SUB) RESULTS=$(RESULTS)/c-api.txt; fi

test-bindings: lib
	@for b in $(BINDINGS); do \
	  if [ -f bindings/$$b/Makefile ]; then \
	    $(MAKE) --no-print-directory -C bindings/$$b test $(SUB) RESULTS=$(RESULTS)/$$b.txt || echo "bindings/$$b: FAILED"; \
	  fi; done

# pip install ./bindings/python and python -m build into fresh virtualenvs,
# then two nodes with each installed copy (see bindings/python/Makefile).
test-python-packaging:
	@mkdir -p $(RESULTS)
	@$(MAKE) --no-print-directory -C bindings/python test-packaging $(SUB) PACKAGING_RESULTS=$(RESULTS)/python-packaging.txt

# One node per language (Go, C, C++, C#, Python) and an unmodified
# p2pnetwork node in a ring; see examples/demo.
demo: lib deps
	@$(MAKE) --no-print-directory -C examples/demo demo $(SUB)

test-crosslang: lib
	@mkdir -p $(RESULTS)
	@$(MAKE) --no-print-directory -C examples/demo test $(SUB) RESULTS=$(RESULTS)/crosslang.txt

bench: lib
	@GO=$(GO) PYTHON=$(PYTHON) bash bench/run.sh

# Runs every fuzz target for FUZZTIME, then the bounded churn soak test.
FUZZTIME ?= 20s
fuzz:
	FUZZTIME=$(FUZZTIME) GO=$(GO) bash .ci/fuzz.sh

install: lib
	install -d $(DESTDIR)$(PREFIX)/lib $(DESTDIR)$(PREFIX)/include $(DESTDIR)$(PREFIX)/lib/pkgconfig
	install -m 0755 $(LIB) $(DESTDIR)$(PREFIX)/lib/libp2pnode.so
	install -m 0644 include/p2pnode.h $(DESTDIR)$(PREFIX)/include/p2pnode.h
	sed -e 's|@PREFIX@|$(PREFIX)|g' -e 's|@VERSION@|$(shell sed -n 's/^#define P2P_VERSION_STRING "\(.*\)"/\1/p' include/p2pnode.h)|g' \
	  capi/p2pnode.pc.in > $(DESTDIR)$(PREFIX)/lib/pkgconfig/p2pnode.pc

clean:
	rm -rf $(BUILD)
