"""Web serving: the Gradio chat UI and JSON API (ui), the guard in front of every route
(guard), staff document management (staff), answer and source rendering (render) and the
programme views (views)."""
