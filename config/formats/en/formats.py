# US English. Django's own ("N j, Y, P") writes "Sept. 4, 2026, 3 p.m.": abbreviations
# with periods, so a sentence ending in a time reads "p.m.." Here no format ends in a
# period, and times always have minutes: "September 4, 2026, 3:00 PM".
DATE_FORMAT = "F j, Y"
TIME_FORMAT = "g:i A"
DATETIME_FORMAT = "F j, Y, g:i A"
YEAR_MONTH_FORMAT = "F Y"
MONTH_DAY_FORMAT = "F j"
SHORT_DATE_FORMAT = "m/d/Y"
SHORT_DATETIME_FORMAT = "m/d/Y g:i A"
