/* facts: what an agent tells the coordinator about its host, so results
 * say where they were measured. */
#ifndef AGENT_FACTS_H
#define AGENT_FACTS_H

#include "proto.h"

#include <stddef.h>

void facts_collect(proto_welcome_t *w);

#endif
