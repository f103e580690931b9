echo already formatted
