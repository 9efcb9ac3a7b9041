/* cmd: the agent's subcommands, each a main of its own, returning an exit
 * code of common/fb_exit.h (README.md's exit-code table, column "agent"). */
#ifndef AGENT_CMD_H
#define AGENT_CMD_H

#include "fb_exit.h"

/* agent run STRATEGY [OPTIONS]: argv[0] is "run". Returns the exit code. */
int cmd_run(int argc, char **argv);

#endif
