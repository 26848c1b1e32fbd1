# 27 Nov 2026 and 27 Nov 2026, 09:05: the month spelt out, so no reader takes the day for the month.
DATE_FORMAT = "j M Y"
SHORT_DATE_FORMAT = DATE_FORMAT
DATETIME_FORMAT = "j M Y, H:i"
SHORT_DATETIME_FORMAT = DATETIME_FORMAT
