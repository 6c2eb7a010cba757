"""The SageMaker data-capture record, shared by the gateway (writer) and the Spark reader."""
