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
SUITES := go-core $(if $(wildcard capi/test/Makefile),c-api) $(if $(wildcard tests/crosslang/Makefile),crosslang) dll install \
	$(foreach b,$(BINDINGS),$(if $(wildcard bindings/$(b)/Makefile),$(b)))
SUITES += $(if $(wildcard bindings/python/tests/packaging),python-packaging)
SUITES += $(if $(wildcard tools/gen_constants.py),generated)
GO_SRC := $(shell find p2p capi -name '*.go' -o -name '*.c' -o -name '*.h' 2>/dev/null) go.mod go.sum include/p2pnode.h
# go build caches cgo objects by the package's own files: a change of
# include/p2pnode.h (outside capi/) would go unseen. Its hash in CGO_CFLAGS
# makes it part of the cache key.
HEADER_HASH := $(shell sha256sum include/p2pnode.h 2>/dev/null | cut -c1-16)
CGO_ENV := CGO_ENABLED=1 CGO_CFLAGS="-O2 -g -DP2P_HEADER_HASH_$(HEADER_HASH)"
# Each binding's Makefile takes these and builds against build/ and include/.
SUB := ROOT=$(ROOT) LIB_DIR=$(BUILD) INCLUDE_DIR=$(ROOT)/include PYTHON=$(PYTHON)

.PHONY: check-generated all lib dll test-dll nuget test-install examples deps test test-go test-c test-bindings test-crosslang demo bench fuzz install uninstall clean

all: lib examples

lib: $(LIB)

$(LIB): $(GO_SRC)
	@mkdir -p $(BUILD)
	$(CGO_ENV) $(GO) build -buildmode=c-shared -ldflags "-extldflags -Wl,-soname,libp2pnode.so" -o $@ ./capi

# The Windows DLL, from the same sources, where a MinGW cross compiler is
# installed (Debian: gcc-mingw-w64-x86-64).
dll: $(DLL)

$(DLL): $(GO_SRC) Makefile
	@command -v x86_64-w64-mingw32-gcc >/dev/null || { echo "dll: needs x86_64-w64-mingw32-gcc (apt-get install gcc-mingw-w64-x86-64)"; exit 1; }
	@mkdir -p $(dir $@)
	@# -static-libgcc: no libgcc_s_seh-1.dll, which Windows does not have.
	GOOS=windows GOARCH=amd64 $(CGO_ENV) CC=x86_64-w64-mingw32-gcc $(GO) build -buildmode=c-shared -ldflags "-extldflags=-static-libgcc" -o $@ ./capi
	@# .NET's DllImport("p2pnode") looks for p2pnode.dll on Windows.
	cp $@ $(dir $@)p2pnode.dll

# Checks the DLL without Windows (.ci/test-dll.sh): it builds, its exports
# match the header, it imports only system DLLs, and a C program links
# against it with the MinGW toolchain. A suite of `make test`.
test-dll:
	@bash .ci/test-dll.sh $(DLL) $(RESULTS)/dll.txt

# The install suite (tests/install/run.sh): make install into a temp prefix
# and consumer projects outside the tree with CMake and pkg-config in C and
# C++, the README's Go example and an external Go module, make nuget and a
# C# program against the package nuget installed from a folder feed.
test-install: lib
	@ROOT=$(ROOT) GO=$(GO) RESULTS=$(RESULTS)/install.txt bash tests/install/run.sh

# The NuGet package build/nuget/P2PNode.<version>.nupkg: the C# binding
# and the native library for Linux and Windows (so it needs MinGW: make dll).
nuget: lib $(DLL)
	@$(MAKE) --no-print-directory -C bindings/csharp nuget $(SUB) NUGET_DIR=$(BUILD)/nuget VERSION=$(VERSION) WIN_DLL=$(dir $(DLL))p2pnode.dll

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
	-@$(MAKE) --no-print-directory test-dll
	-@$(MAKE) --no-print-directory test-install
	-@$(MAKE) --no-print-directory test-python-packaging
	-@$(MAKE) --no-print-directory check-generated
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

# The bindings' constants and struct layouts are generated from the header
# (tools/gen_constants.py): regenerate into a temporary directory, fail on a
# difference with the committed files. A suite of `make test` ("generated").
check-generated:
	@mkdir -p $(RESULTS)
	@$(PYTHON) tools/gen_constants.py --check $(RESULTS)/generated.txt

# pip install ./bindings/python and python -m build into fresh virtualenvs,
# then two nodes with each installed copy (see bindings/python/Makefile).
test-python-packaging:
	@mkdir -p $(RESULTS)
	@$(MAKE) --no-print-directory -C bindings/python test-packaging $(SUB) PACKAGING_RESULTS=$(RESULTS)/python-packaging.txt

# One node per language (Go, C, C++, C#, Python) and an unmodified
# p2pnetwork node in a ring; see tests/crosslang (the demo runs the
# suite's drivers, so it lives with them).
demo: lib deps
	@$(MAKE) --no-print-directory -C tests/crosslang demo $(SUB)

test-crosslang: lib
	@mkdir -p $(RESULTS)
	@$(MAKE) --no-print-directory -C tests/crosslang test $(SUB) RESULTS=$(RESULTS)/crosslang.txt

bench: lib
	@GO=$(GO) PYTHON=$(PYTHON) bash bench/run.sh

# Runs every fuzz target for FUZZTIME, then the bounded churn soak test.
FUZZTIME ?= 20s
fuzz:
	FUZZTIME=$(FUZZTIME) GO=$(GO) bash .ci/fuzz.sh

# The C library, p2pnode.h and the C++ p2pnode.hpp, pkg-config files for C
# (p2pnode) and C++ (p2pnode-cpp), both with an rpath to $(PREFIX)/lib, and
# the CMake package (find_package(p2pnode): p2pnode::p2pnode, p2pnode::cpp).
# DESTDIR stages it (the files name $(PREFIX), not $(DESTDIR)).
VERSION := $(shell sed -n 's/^\#define P2P_VERSION_STRING "\(.*\)"/\1/p' include/p2pnode.h)
INSTALL_SUBST := sed -e 's|@PREFIX@|$(PREFIX)|g' -e 's|@LIBDIR@|$(PREFIX)/lib|g' \
	-e 's|@INCLUDEDIR@|$(PREFIX)/include|g' -e 's|@VERSION@|$(VERSION)|g'
INSTALLED := lib/libp2pnode.so include/p2pnode.h include/p2pnode.hpp lib/pkgconfig/p2pnode.pc \
	lib/pkgconfig/p2pnode-cpp.pc lib/cmake/p2pnode/p2pnodeConfig.cmake lib/cmake/p2pnode/p2pnodeConfigVersion.cmake

install: lib
	install -d $(DESTDIR)$(PREFIX)/lib/pkgconfig $(DESTDIR)$(PREFIX)/lib/cmake/p2pnode $(DESTDIR)$(PREFIX)/include
	install -m 0755 $(LIB) $(DESTDIR)$(PREFIX)/lib/libp2pnode.so
	install -m 0644 include/p2pnode.h bindings/cpp/include/p2pnode.hpp $(DESTDIR)$(PREFIX)/include/
	$(INSTALL_SUBST) capi/p2pnode.pc.in > $(DESTDIR)$(PREFIX)/lib/pkgconfig/p2pnode.pc
	$(INSTALL_SUBST) bindings/cpp/p2pnode-cpp.pc.in > $(DESTDIR)$(PREFIX)/lib/pkgconfig/p2pnode-cpp.pc
	install -m 0644 bindings/cpp/cmake/p2pnodeConfig.cmake $(DESTDIR)$(PREFIX)/lib/cmake/p2pnode/
	$(INSTALL_SUBST) bindings/cpp/cmake/p2pnodeConfigVersion.cmake.in > $(DESTDIR)$(PREFIX)/lib/cmake/p2pnode/p2pnodeConfigVersion.cmake
	@echo "installed p2pnode $(VERSION) in $(DESTDIR)$(PREFIX)"

uninstall:
	rm -f $(addprefix $(DESTDIR)$(PREFIX)/,$(INSTALLED))
	-rmdir $(DESTDIR)$(PREFIX)/lib/cmake/p2pnode 2>/dev/null

clean:
	rm -rf $(BUILD)
