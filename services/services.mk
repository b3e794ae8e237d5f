# services/: echo, iperf and the HTTP server, with its build pieces.
# Included by the top-level Makefile, which defines BUILD, CC, PYTHON,
# KCFLAGS and EXTRA_OBJS before including this.
#
#   SERVICES_SRCS   every source of the image; HTTP_SRCS the request
#                   machine alone (no lwIP), which the host tests and the
#                   fuzzer build
#   llhttp   Debian's node-llhttp sources (/usr/share/llhttp), compiled here
#            with the kernel's flags; nothing of llhttp is in the repository.
#   www      tools/gen-www.py turns the site directory into
#            $(BUILD)/www/www_data.c (services/www.h), rebuilt when any file or
#            directory under it changes.
#                make WWW=/path/to/site      builds another site in
#   fuzz     make fuzz        libFuzzer over the request handler, 30 s
#            make fuzz-smoke  the same for 10 s (make test runs it when clang
#                             is installed)
#            make fuzz FUZZ_TIME=600   longer

HTTP_SRCS := services/http_parser.c services/http_route.c \
	services/http_path.c services/http_site.c
SERVICES_SRCS := services/tcp_raw.c services/echo.c services/iperf.c \
	services/http_conn.c services/xsk_echo.c services/admin_api.c \
	services/admin_conn.c $(HTTP_SRCS)

LLHTTP_DIR := /usr/share/llhttp
LLHTTP_INC := /usr/share/include/llhttp
LLHTTP_OBJ := $(BUILD)/llhttp
LLHTTP_SRCS := $(LLHTTP_DIR)/llhttp.c $(LLHTTP_DIR)/api.c $(LLHTTP_DIR)/http.c
LLHTTP_OBJS := $(LLHTTP_OBJ)/llhttp.o $(LLHTTP_OBJ)/api.o $(LLHTTP_OBJ)/http.o

# LLHTTP_STRICT_MODE=0: llhttp.c holds a strict and a default parser; we
#   want the default one (the lenient_* flags stay off, so it still rejects
#   request smuggling: Content-Length with Transfer-Encoding, bad chunk
#   sizes, bare CR).
# -mno-sse4.2: KCFLAGS already turns SSE off; this keeps llhttp's SSE4.2
#   path (#ifdef __SSE4_2__) out even if someone adds -march=native.
# fprintf(...): api.c's llhttp__debug() prints to stderr, which the kernel
#   does not have; it is only called by an llhttp built with debug tracing,
#   so the call becomes a no-op instead of needing a stdio shim.
LLHTTP_CFLAGS := -DLLHTTP_STRICT_MODE=0 -mno-sse4.2 '-Dfprintf(...)=((void)0)'

# Every file that includes services/http.h needs llhttp.h.
KCFLAGS += -I$(LLHTTP_INC)

$(LLHTTP_OBJ)/%.o: $(LLHTTP_DIR)/%.c | setup-build
	@mkdir -p $(dir $@)
	@echo "  CC      $<"
	@$(CC) $(KCFLAGS) $(LLHTTP_CFLAGS) -MMD -MP -c $< -o $@

# Missing sources: node-llhttp is not installed; setup.sh says how to get
# it (or installs it, as root).
$(LLHTTP_SRCS):
	@tools/setup.sh build
	@test -f $@ || { echo "$@: missing (package node-llhttp)" >&2; exit 1; }

# ---- the site ------------------------------------------------------------

WWW ?= www
WWW_C := $(BUILD)/www/www_data.c
WWW_DEP := $(BUILD)/www/www_data.d
WWW_OBJ := $(BUILD)/www/www_data.o

# The dependency file lists every file and directory the generator read
# (a directory's time changes when an entry is added or removed); it is
# written by the generator itself, so names with spaces work.
$(WWW_C): tools/gen-www.py
	@mkdir -p $(dir $@)
	@echo "  GEN     $@ from $(WWW)/"
	@$(PYTHON) tools/gen-www.py --out $@ --dep $(WWW_DEP) $(WWW)

$(WWW_OBJ): $(WWW_C) services/www.h | setup-build
	@echo "  CC      $<"
	@$(CC) $(KCFLAGS) -c $< -o $@

# The dependency file also records which directory the table came from
# (WWW_BUILT): building with another WWW= regenerates it.
-include $(WWW_DEP)
ifneq ($(WWW_BUILT),$(WWW))
$(WWW_C): www-changed
endif
.PHONY: www-changed
www-changed:

EXTRA_OBJS += $(LLHTTP_OBJS) $(WWW_OBJ)

-include $(LLHTTP_OBJS:.o=.d)

# (Not "www": that is the site directory, a prerequisite of the table.)
.PHONY: www-table
www-table: $(WWW_C)

# ---- fuzzing ---------------------------------------------------------------

FUZZ_CC ?= clang
FUZZ_TIME ?= 30
FUZZ_DIR := $(BUILD)/fuzz
FUZZ_BIN := $(FUZZ_DIR)/fuzz_http
# The real request handler, llhttp and the real site table, with the host
# stand-ins for the kernel's logger, heap and ksnprintf (no lwIP).
FUZZ_SRCS := tests/fuzz/fuzz_http.c $(HTTP_SRCS) $(KERNEL_TEXT_SRCS) \
	$(LLHTTP_SRCS) $(WWW_C) tests/unit/host_kernel_stubs.c tests/unit/host_printf_stub.c
FUZZ_CFLAGS := -g -O1 -fsanitize=fuzzer,address,undefined \
	-fno-sanitize-recover=undefined -DSKIFF_HOST_TEST \
	-DLLHTTP_STRICT_MODE=0 -I. -I$(LLHTTP_INC)

$(FUZZ_BIN): $(FUZZ_SRCS) services/http.h services/www.h
	@tools/setup.sh fuzz
	@mkdir -p $(dir $@)
	$(FUZZ_CC) $(FUZZ_CFLAGS) $(FUZZ_SRCS) -o $@

# Seeds: a few well-formed requests to start from (the fuzzer's own finds
# accumulate in $(FUZZ_DIR)/corpus, which is never committed).
$(FUZZ_DIR)/seeds/.stamp: services/services.mk
	@mkdir -p $(dir $@)
	@printf 'GET / HTTP/1.1\r\nHost: a\r\n\r\n' > $(dir $@)get
	@printf 'HEAD /big.bin HTTP/1.1\r\nHost: a\r\nIf-None-Match: "x", W/"y"\r\n\r\n' > $(dir $@)head
	@printf 'POST /echo HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\nGET /stats HTTP/1.1\r\nHost: a\r\n\r\n' > $(dir $@)chunked
	@printf 'POST /echo HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\nExpect: 100-continue\r\n\r\nhello' > $(dir $@)expect
	@printf 'GET /a/../%%2e%%2E/b//c/./?q=1 HTTP/1.0\r\nConnection: keep-alive\r\n\r\n' > $(dir $@)path
	@touch $@

.PHONY: fuzz fuzz-smoke
fuzz: $(FUZZ_BIN) $(FUZZ_DIR)/seeds/.stamp
	@mkdir -p $(FUZZ_DIR)/corpus
	$(FUZZ_BIN) -max_total_time=$(FUZZ_TIME) -max_len=4096 \
		-artifact_prefix=$(FUZZ_DIR)/ \
		-print_final_stats=1 $(FUZZ_DIR)/corpus $(FUZZ_DIR)/seeds

fuzz-smoke:
	@$(MAKE) --no-print-directory fuzz FUZZ_TIME=10
