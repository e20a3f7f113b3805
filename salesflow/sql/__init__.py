"""Flink SQL: rendering the statements in flink_statements/ for Confluent Cloud or the local harness."""
