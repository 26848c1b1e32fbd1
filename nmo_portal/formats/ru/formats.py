# 27.11.2026 and 27.11.2026 9:05: day first, as Russian readers and the Ministry's documents write dates.
DATE_FORMAT = "d.m.Y"
SHORT_DATE_FORMAT = DATE_FORMAT
DATETIME_FORMAT = "d.m.Y G:i"
SHORT_DATETIME_FORMAT = DATETIME_FORMAT
