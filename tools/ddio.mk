# The leaky-DMA model (tools/ddio_model.c, docs/leaky-dma.md): a host tool
# that replays RX buffer traces through an LLC with DDIO ways.
#
#   make -f tools/ddio.mk ddio-model    builds build/host/ddio_model
#   make -f tools/ddio.mk ddio-report   runs the experiments: table in
#                                       build/ddio/leaky_dma.{txt,csv}, plot
#                                       build/ddio/leaky_dma.png (gnuplot)
#
# Also -include'able from the top Makefile (it only sets what is unset).
# A recorded trace (vnet_trace_enable, "ns buffer event len" lines):
#   build/host/ddio_model --trace FILE
#   build/host/ddio_model --write-at harvest-lag:20000 --trace FILE

BUILD ?= build
HOSTCC ?= gcc
DDIO_MODEL := $(BUILD)/host/ddio_model
DDIO_OUT := $(BUILD)/ddio

.PHONY: ddio-model ddio-report

ddio-model: $(DDIO_MODEL)

$(DDIO_MODEL): tools/ddio_model.c drivers/vnet_rx_policy.h
	@mkdir -p $(dir $@)
	$(HOSTCC) -std=gnu11 -O2 -g -Wall -Wextra -Werror -I. -o $@ $< -lm

ddio-report: $(DDIO_MODEL)
	@command -v gnuplot >/dev/null || { \
	  if [ "$$(id -u)" = 0 ]; then \
	    apt-get install -y --no-install-recommends gnuplot-nox; \
	  else \
	    echo "ddio-report needs gnuplot: apt-get install gnuplot-nox"; \
	    exit 1; \
	  fi; }
	@mkdir -p $(DDIO_OUT)
	$(DDIO_MODEL) --report $(DDIO_OUT)
	gnuplot $(DDIO_OUT)/leaky_dma.gp
	@echo "table: $(DDIO_OUT)/leaky_dma.txt, $(DDIO_OUT)/leaky_dma.csv; plot: $(DDIO_OUT)/leaky_dma.png"
