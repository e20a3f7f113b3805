"""The three stacks of an environment, in apply order: Confluent, Flink, AWS."""
