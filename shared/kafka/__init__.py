"""Kafka producer, consumer and topic helpers on aiokafka."""
