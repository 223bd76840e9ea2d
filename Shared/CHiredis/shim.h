#ifndef ORDERFLOW_CHIREDIS_SHIM_H
#define ORDERFLOW_CHIREDIS_SHIM_H
#include <hiredis/hiredis.h>
#endif
