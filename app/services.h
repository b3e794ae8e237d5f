/* The appliance's services, started once the interface has an address. */
#ifndef SKIFF_APP_SERVICES_H
#define SKIFF_APP_SERVICES_H

void services_start(void);

#endif
