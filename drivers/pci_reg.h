/* PCI configuration-space layout (type 0 header) and capability IDs. */
#ifndef SKIFF_DRIVERS_PCI_REG_H
#define SKIFF_DRIVERS_PCI_REG_H

#define PCI_VENDOR_ID	    0x00
#define PCI_DEVICE_ID	    0x02
#define PCI_COMMAND	    0x04
#define PCI_STATUS	    0x06
#define PCI_CLASS_REVISION  0x08 /* revision, prog-if, subclass, class */
#define PCI_HEADER_TYPE	    0x0e
#define PCI_BAR0	    0x10
#define PCI_SECONDARY_BUS   0x19 /* type 1 (bridge) header */
#define PCI_SUBSYSTEM_ID    0x2e
#define PCI_CAPABILITY_LIST 0x34

#define PCI_COMMAND_IO		 0x0001
#define PCI_COMMAND_MEMORY	 0x0002
#define PCI_COMMAND_MASTER	 0x0004
#define PCI_COMMAND_INTX_DISABLE 0x0400
#define PCI_STATUS_CAP_LIST	 0x0010
#define PCI_HEADER_MULTIFUNCTION 0x80
#define PCI_HEADER_TYPE_MASK	 0x7f
#define PCI_HEADER_TYPE_BRIDGE	 0x01

#define PCI_BAR_IO	      0x1
#define PCI_BAR_MEM_TYPE_MASK 0x6
#define PCI_BAR_MEM_64	      0x4
#define PCI_BAR_PREFETCH      0x8

#define PCI_CAP_ID_MSIX	  0x11
#define PCI_CAP_ID_VENDOR 0x09

/* MSI-X capability: message control, table and PBA offset/BIR. */
#define PCI_MSIX_FLAGS		   2
#define PCI_MSIX_FLAGS_QSIZE	   0x07ff
#define PCI_MSIX_FLAGS_MASKALL	   0x4000
#define PCI_MSIX_FLAGS_ENABLE	   0x8000
#define PCI_MSIX_TABLE		   4
#define PCI_MSIX_PBA		   8
#define PCI_MSIX_BIR_MASK	   0x7
#define PCI_MSIX_ENTRY_SIZE	   16
#define PCI_MSIX_ENTRY_ADDR_LO	   0
#define PCI_MSIX_ENTRY_ADDR_HI	   4
#define PCI_MSIX_ENTRY_DATA	   8
#define PCI_MSIX_ENTRY_CTRL	   12
#define PCI_MSIX_ENTRY_CTRL_MASKED 0x1

#endif
