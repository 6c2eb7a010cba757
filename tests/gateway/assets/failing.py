"""A script model that always fails (a bad new version): the gateway answers 424 with OriginalStatusCode 500."""


def model_fn(model_dir):
    return None


def predict_fn(data, model):
    raise RuntimeError("model v2 cannot score this payload")
