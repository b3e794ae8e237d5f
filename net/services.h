/* The appliance's services, started once the interface has an address. */
#ifndef SKIFF_NET_SERVICES_H
#define SKIFF_NET_SERVICES_H

void services_start(void);

#endif
