/* Kernel logger: printf-style lines on the console, each with a timestamp
 * (seconds since boot) and a level; lines above the configured level are
 * dropped (log.level on the command line). */
#ifndef SKIFF_KERNEL_LOG_H
#define SKIFF_KERNEL_LOG_H

enum log_level { LOG_ERROR, LOG_WARN, LOG_INFO, LOG_DEBUG };

void log_msg(enum log_level level, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
void log_set_level(enum log_level level);
/* The levels' names, indexed by enum log_level, NULL-terminated (the
 * console prefix and the log.level key's values). */
extern const char *const log_level_names[];

#define log_error(...) log_msg(LOG_ERROR, __VA_ARGS__)
#define log_warn(...)  log_msg(LOG_WARN, __VA_ARGS__)
#define log_info(...)  log_msg(LOG_INFO, __VA_ARGS__)
#define log_debug(...) log_msg(LOG_DEBUG, __VA_ARGS__)

#endif
